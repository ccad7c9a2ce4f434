//! Pure functions turning what the caller wants (and, for options, what the server has now)
//! into the system-procedure calls to make. No I/O: everything here is checked before
//! anything is sent.

use crate::error::Error;
use crate::spec::{
    validate_sysname, validate_text, LinkedServer, LinkedServerSpec, OptionSetting, OptionValue,
    RawOptionValue, RedactedText, ServerOption, PRODUCT_UNITS, PROPERTY_UNITS, SYSNAME_UNITS,
};

/// The product name that makes a "SQL Server" link (any letter case, as the server compares).
pub const SQL_SERVER_PRODUCT: &str = "SQL Server";

/// The arguments of one `sp_addlinkedserver` call; `None` is sent as NULL. `Debug` hides the
/// provider string.
#[derive(Clone, PartialEq, Eq)]
pub struct NewLinkedServer {
    pub name: String,
    pub product: String,
    pub provider: Option<String>,
    pub data_source: Option<String>,
    pub location: Option<String>,
    pub provider_string: Option<String>,
    pub catalog: Option<String>,
}

impl std::fmt::Debug for NewLinkedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewLinkedServer")
            .field("name", &self.name)
            .field("product", &self.product)
            .field("provider", &self.provider)
            .field("data_source", &self.data_source)
            .field("location", &self.location)
            .field("provider_string", &RedactedText(&self.provider_string))
            .field("catalog", &self.catalog)
            .finish()
    }
}

/// One system-procedure call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `sp_addlinkedserver`.
    AddLinkedServer(NewLinkedServer),
    /// `sp_serveroption`.
    SetOption {
        server: String,
        setting: OptionSetting,
    },
    /// `sp_dropserver`, with `@droplogins = 'droplogins'` or NULL.
    DropServer { server: String, drop_logins: bool },
}

/// Steps to run in order; if one fails after the first has succeeded, `compensation` undoes
/// what the first created, so the call leaves nothing behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub compensation: Vec<Step>,
}

pub(crate) fn is_sql_server_product(product: &str) -> bool {
    // `=` in T-SQL ignores trailing blanks.
    product
        .trim_end_matches(' ')
        .eq_ignore_ascii_case(SQL_SERVER_PRODUCT)
}

/// Validates a create request and plans `sp_addlinkedserver` followed by one `sp_serveroption`
/// per option, with `sp_dropserver … 'droplogins'` as compensation.
///
/// Product/provider rules mirror the server's own checks (reference §4.2-4.3), so a conflict
/// is reported before anything is sent:
/// - product `SQL Server` (or neither product nor provider): the name is the network name; no
///   provider (15428) and no data source, location, provider string or catalog (15426);
/// - properties without a provider (15426); another product without a provider (15427);
/// - a provider without a product (15429; use `""` as product to alias a SQL Server target).
pub fn plan_create(name: &str, spec: &LinkedServerSpec) -> Result<Plan, Error> {
    validate_sysname("linked server name", name)?;
    let properties = [
        ("data_source", &spec.data_source),
        ("location", &spec.location),
        ("provider_string", &spec.provider_string),
        ("catalog", &spec.catalog),
    ];
    let given_properties: Vec<&str> = properties
        .iter()
        .filter(|(_, value)| value.is_some())
        .map(|(field, _)| *field)
        .collect();

    let sql_server_link = match (&spec.product, &spec.provider) {
        (None, None) => true,
        (Some(product), _) => is_sql_server_product(product),
        (None, Some(_)) => false,
    };
    if sql_server_link {
        if spec.provider.is_some() {
            return Err(Error::invalid_argument(
                "product 'SQL Server' takes no provider: the linked server name is the network \
                 name; to alias a SQL Server, use product \"\" with provider MSOLEDBSQL and \
                 data_source (mirrors SQL Server error 15428)",
            ));
        }
        if !given_properties.is_empty() {
            return Err(Error::invalid_argument(format!(
                "product 'SQL Server' takes no {}: the linked server name is the network name \
                 (mirrors SQL Server error 15426)",
                given_properties.join(", ")
            )));
        }
    } else {
        match (&spec.product, &spec.provider) {
            (_, None) if !given_properties.is_empty() => {
                return Err(Error::invalid_argument(format!(
                    "{} given without a provider (mirrors SQL Server error 15426)",
                    given_properties.join(", ")
                )))
            }
            (Some(product), None) => {
                return Err(Error::invalid_argument(format!(
                    "product '{product}' needs a provider, e.g. MSOLEDBSQL (mirrors SQL Server \
                     error 15427)"
                )))
            }
            (None, Some(_)) => {
                return Err(Error::invalid_argument(
                    "a provider needs a product; use \"\" for a SQL Server target reached \
                     through the provider (mirrors SQL Server error 15429)",
                ))
            }
            _ => {}
        }
    }

    let product = match &spec.product {
        Some(product) if !sql_server_link => product.clone(),
        _ => SQL_SERVER_PRODUCT.to_string(),
    };
    validate_text("product", &product, PRODUCT_UNITS)?;
    if let Some(provider) = &spec.provider {
        validate_sysname("provider", provider)?;
    }
    for (field, value) in properties {
        let limit = if field == "catalog" {
            SYSNAME_UNITS
        } else {
            PROPERTY_UNITS
        };
        if let Some(value) = value {
            validate_text(field, value, limit)?;
        }
    }

    let settings = create_options(spec)?;
    let mut steps = vec![Step::AddLinkedServer(NewLinkedServer {
        name: name.to_string(),
        product,
        provider: spec.provider.clone(),
        data_source: spec.data_source.clone(),
        location: spec.location.clone(),
        provider_string: spec.provider_string.clone(),
        catalog: spec.catalog.clone(),
    })];
    steps.extend(settings.into_iter().map(|setting| Step::SetOption {
        server: name.to_string(),
        setting,
    }));
    Ok(Plan {
        steps,
        compensation: vec![Step::DropServer {
            server: name.to_string(),
            drop_logins: true,
        }],
    })
}

/// The spec's options, checked: whitelist and value shapes, each option once, no rename (the
/// compensation drops the server by the name it was created with), no contradiction between
/// `collation compatible` and `collation name` (the server lets the later one win).
fn create_options(spec: &LinkedServerSpec) -> Result<Vec<OptionSetting>, Error> {
    let mut settings: Vec<OptionSetting> = Vec::new();
    for (name, value) in &spec.options {
        // The value is not echoed: an array or object given as `provider string` may hold a
        // password.
        let raw = RawOptionValue::from_json(value).ok_or_else(|| {
            Error::invalid_argument(format!(
                "server option '{name}' has a value of the wrong kind (an array, object or \
                 fraction); use a bool, a non-negative integer, a string or null"
            ))
        })?;
        let setting = OptionSetting::parse(name, raw)?;
        if setting.option == ServerOption::Name {
            return Err(Error::invalid_argument(
                "option 'name' renames a server; create it with the wanted name instead",
            ));
        }
        if settings.iter().any(|s| s.option == setting.option) {
            return Err(Error::invalid_argument(format!(
                "server option '{}' is given more than once",
                setting.option.name()
            )));
        }
        settings.push(setting);
    }
    // A documented order, whatever order the JSON object had: alphabetical by option name.
    settings.sort_by_key(|setting| setting.option);
    let value_of = |option| {
        settings
            .iter()
            .find(|s| s.option == option)
            .map(|s| &s.value)
    };
    if let (Some(OptionValue::Flag(true)), Some(OptionValue::Text(Some(_)))) = (
        value_of(ServerOption::CollationCompatible),
        value_of(ServerOption::CollationName),
    ) {
        return Err(Error::invalid_argument(
            "'collation compatible' = true clears 'collation name'; give one of them",
        ));
    }
    Ok(settings)
}

/// The `sp_serveroption` calls that bring `current` to `desired`, skipping values it already
/// has, in the order given.
pub fn plan_options(current: &LinkedServer, desired: &[OptionSetting]) -> Vec<Step> {
    desired
        .iter()
        .filter(|setting| !setting.is_current(current))
        .map(|setting| Step::SetOption {
            server: current.name.clone(),
            setting: setting.clone(),
        })
        .collect()
}

/// The settings for `rpc` / `rpc out`; `None` leaves an option as it is.
pub fn rpc_settings(rpc: Option<bool>, rpc_out: Option<bool>) -> Vec<OptionSetting> {
    [(ServerOption::Rpc, rpc), (ServerOption::RpcOut, rpc_out)]
        .into_iter()
        .filter_map(|(option, value)| {
            value.map(|flag| OptionSetting {
                option,
                value: OptionValue::Flag(flag),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(value: serde_json::Value) -> LinkedServerSpec {
        serde_json::from_value(value).unwrap()
    }

    fn create_error(name: &str, value: serde_json::Value) -> String {
        plan_create(name, &spec(value)).unwrap_err().message
    }

    fn snapshot() -> LinkedServer {
        LinkedServer {
            server_id: 1,
            rpc_out: false,
            logins: Vec::new(),
            ..LinkedServer::created("BTS01")
        }
    }

    #[test]
    fn debug_output_never_shows_a_provider_string() {
        let secret = "Pwd=s3cret";
        let spec = spec(json!({
            "product": "",
            "provider": "MSOLEDBSQL",
            "data_source": "host",
            "provider_string": secret,
            "options": {"Provider String": secret, "rpc out": true},
        }));
        let plan = plan_create("BTS01", &spec).unwrap();
        let server = LinkedServer {
            provider: "MSOLEDBSQL".into(),
            provider_string: Some(secret.into()),
            ..snapshot()
        };
        let shown = [
            format!("{spec:?}"),
            format!("{spec:#?}"),
            format!("{plan:?}"),
            format!("{server:?}"),
        ];
        for text in shown {
            assert!(!text.contains("s3cret"), "{text}");
            assert!(text.contains("<redacted>"), "{text}");
            assert!(
                text.contains("MSOLEDBSQL"),
                "other fields still show: {text}"
            );
        }
        // Other options keep their values.
        assert!(format!("{plan:?}").contains("Flag(true)"));
    }

    #[test]
    fn sql_server_product_creates_then_sets_options_and_drops_on_failure() {
        let plan = plan_create(
            "BTS01\\INST",
            &spec(
                json!({"product": "sql server", "options": {"RPC OUT": true, "query timeout": 30}}),
            ),
        )
        .unwrap();
        assert_eq!(
            plan.steps[0],
            Step::AddLinkedServer(NewLinkedServer {
                name: "BTS01\\INST".into(),
                product: "SQL Server".into(),
                provider: None,
                data_source: None,
                location: None,
                provider_string: None,
                catalog: None,
            })
        );
        let options: Vec<(ServerOption, Option<String>)> = plan.steps[1..]
            .iter()
            .map(|step| match step {
                Step::SetOption { server, setting } => {
                    assert_eq!(server, "BTS01\\INST");
                    (setting.option, setting.value.to_parameter())
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        // Alphabetical by canonical name, whatever the JSON's order or case ("RPC OUT" sorts
        // before "query timeout" as given).
        assert_eq!(
            options,
            vec![
                (ServerOption::QueryTimeout, Some("30".into())),
                (ServerOption::RpcOut, Some("true".into()))
            ]
        );
        assert_eq!(
            plan.compensation,
            vec![Step::DropServer {
                server: "BTS01\\INST".into(),
                drop_logins: true
            }]
        );
    }

    #[test]
    fn provider_link_keeps_every_property() {
        let plan = plan_create(
            "Alias",
            &spec(
                json!({"product": "", "provider": "MSOLEDBSQL", "data_source": "h\\i",
                         "location": "l", "provider_string": "Encrypt=yes", "catalog": "master"}),
            ),
        )
        .unwrap();
        let Step::AddLinkedServer(add) = &plan.steps[0] else {
            panic!()
        };
        assert_eq!(add.product, "");
        assert_eq!(add.provider.as_deref(), Some("MSOLEDBSQL"));
        assert_eq!(add.data_source.as_deref(), Some("h\\i"));
        assert_eq!(add.catalog.as_deref(), Some("master"));
        assert_eq!(plan.steps.len(), 1);
    }

    #[test]
    fn product_provider_conflicts_mirror_the_server_rules() {
        assert!(create_error(
            "X",
            json!({"product": "SQL Server", "provider": "MSOLEDBSQL"})
        )
        .contains("15428"));
        assert!(
            create_error("X", json!({"product": "SQL Server", "data_source": "h"}))
                .contains("15426")
        );
        assert!(create_error("X", json!({"data_source": "h"})).contains("15426"));
        assert!(create_error("X", json!({"product": "", "catalog": "c"})).contains("15426"));
        assert!(create_error("X", json!({"product": "Oracle"})).contains("15427"));
        assert!(create_error("X", json!({"provider": "MSOLEDBSQL"})).contains("15429"));
        // Neither product nor provider is a SQL Server link, as on the server.
        let plan = plan_create("X", &spec(json!({}))).unwrap();
        let Step::AddLinkedServer(add) = &plan.steps[0] else {
            panic!()
        };
        assert_eq!(add.product, "SQL Server");
    }

    #[test]
    fn names_and_lengths_are_checked_first() {
        assert!(create_error("", json!({"product": "SQL Server"})).contains("must not be empty"));
        assert!(create_error(&"n".repeat(129), json!({})).contains("at most 128"));
        assert!(create_error("a\0b", json!({})).contains("U+0000"));
        let long = "d".repeat(4001);
        assert!(create_error(
            "X",
            json!({"product": "", "provider": "P", "data_source": long})
        )
        .contains("data_source"));
        assert!(create_error("X", json!({"product": "", "provider": ""})).contains("provider"));
    }

    #[test]
    fn bad_options_fail_the_whole_plan() {
        assert!(create_error("X", json!({"options": {"rpc outt": true}})).contains("unknown"));
        assert!(
            create_error("X", json!({"options": {"rpc out": "sometimes"}})).contains("rpc out")
        );
        assert!(create_error("X", json!({"options": {"query timeout": -5}})).contains("seconds"));
        assert!(create_error("X", json!({"options": {"rpc": [true]}})).contains("wrong kind"));
        let hidden = create_error(
            "X",
            json!({"options": {"provider string": ["Pwd=Hidden1"]}}),
        );
        assert!(!hidden.contains("Hidden1"), "{hidden}");
        assert!(
            create_error("X", json!({"options": {"rpc": true, "RPC": false}}))
                .contains("more than once")
        );
        assert!(create_error("X", json!({"options": {"name": "Y"}})).contains("renames"));
        assert!(create_error(
            "X",
            json!({"options": {"collation compatible": true, "collation name": "Latin1_General_CI_AS"}})
        )
        .contains("collation"));
    }

    #[test]
    fn plan_options_skips_values_already_set() {
        let current = snapshot();
        let desired = rpc_settings(Some(true), Some(true));
        assert_eq!(
            plan_options(&current, &desired),
            vec![Step::SetOption {
                server: "BTS01".into(),
                setting: OptionSetting {
                    option: ServerOption::RpcOut,
                    value: OptionValue::Flag(true)
                },
            }]
        );
        let mut done = current.clone();
        done.rpc_out = true;
        assert!(plan_options(&done, &desired).is_empty());
        assert!(plan_options(&current, &rpc_settings(None, None)).is_empty());
    }

    #[test]
    fn plan_options_compares_each_shape() {
        let current = snapshot();
        let parse = |name: &str, raw| OptionSetting::parse(name, raw).unwrap();
        let same = [
            parse("query timeout", RawOptionValue::Int(0)),
            parse("collation name", RawOptionValue::Null),
            parse("name", RawOptionValue::Text("BTS01")),
            parse("data access", RawOptionValue::Text("on")),
        ];
        assert!(plan_options(&current, &same).is_empty());
        let different = [
            parse("query timeout", RawOptionValue::Int(60)),
            parse(
                "collation name",
                RawOptionValue::Text("Latin1_General_CI_AS"),
            ),
            parse("provider string", RawOptionValue::Text("x")),
        ];
        assert_eq!(plan_options(&current, &different).len(), 3);
    }
}
