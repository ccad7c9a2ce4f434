//! SQL Server's message catalogue for the messages the stand-in raises: number, severity and the
//! template exactly as Microsoft publishes it (reference note section 13), plus the formatter
//! that fills `%s` / `%ls` / `%.*ls` / `%d` the way RAISERROR does.

use crate::types::ServerMessage;

/// Severity and template of a catalogued message, `None` for numbers the stand-in never raises.
pub fn template(number: i32) -> Option<(u8, &'static str)> {
    let entry = match number {
        102 => (15, "Incorrect syntax near '%.*ls'."),
        105 => (15, "Unclosed quotation mark after the character string '%.*ls'."),
        113 => (15, "Missing end comment mark '*/'."),
        108 => (15, "The ORDER BY position number %ld is out of range of the number of items in the select list."),
        141 => (
            15,
            "A SELECT statement that assigns a value to a variable must not be combined with data-retrieval operations.",
        ),
        174 => (15, "The %.*ls function requires %d argument(s)."),
        195 => (15, "'%.*ls' is not a recognized built-in function name."),
        263 => (16, "Must specify table to select from."),
        4104 => (16, "The multi-part identifier \"%.*ls\" could not be bound."),
        8134 => (16, "Divide by zero error encountered."),
        137 => (15, "Must declare the scalar variable \"%.*ls\"."),
        178 => (15, "A RETURN statement with a return value cannot be used in this context."),
        2732 => (
            16,
            "Error number %ld is invalid. The number must be from %ld through %ld and it cannot be 50000.",
        ),
        2754 => (
            16,
            "Error severity levels greater than 18 can only be specified by members of the sysadmin role, using the WITH LOG option.",
        ),
        2756 => (16, "Invalid value %d for state. State value must not be less than 0."),
        2786 => (
            16,
            "The data type of substitution parameter %d does not match the expected type of the format specification.",
        ),
        8115 => (16, "Arithmetic overflow error converting %ls to data type %ls."),
        10704 => (
            15,
            "To rethrow an error, a THROW statement must be used inside a CATCH block. Insert the THROW statement inside a CATCH block, or add error parameters to the THROW statement.",
        ),
        18054 => (
            16,
            "Error %d, severity %d, state %d was raised, but no message with that error number was found in sys.messages. If error is larger than 50000, make sure the user-defined message is added using sp_addmessage.",
        ),
        35100 => (
            16,
            "Error number %ld in the THROW statement is outside the valid range. Specify an error number in the valid range of 50000 to 2147483647.",
        ),
        134 => (
            15,
            "The variable name '%.*ls' has already been declared. Variable names must be unique within a query batch or stored procedure.",
        ),
        119 => (
            15,
            "Must pass parameter number %d and subsequent parameters as '@name = value'. After the form '@name = value' has been used, all subsequent parameters must be passed in the form '@name = value'.",
        ),
        201 => (16, "Procedure or function '%.*ls' expects parameter '%.*ls', which was not supplied."),
        207 => (16, "Invalid column name '%.*ls'."),
        208 => (16, "Invalid object name '%.*ls'."),
        209 => (16, "Ambiguous column name '%.*ls'."),
        214 => (16, "Procedure expects parameter '%ls' of type '%ls'."),
        243 => (16, "Type %.*ls is not a defined system type."),
        911 => (16, "Database '%.*ls' does not exist. Make sure that the name is entered correctly."),
        2812 => (16, "Could not find stored procedure '%.*ls'."),
        3902 => (16, "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION."),
        3903 => (16, "The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION."),
        4060 => (11, "Cannot open database \"%.*ls\" requested by the login. The login failed."),
        5701 => (0, "Changed database context to '%.*ls'."),
        7202 => (
            11,
            "Could not find server '%.*ls' in sys.servers. Verify that the correct server name was specified. If necessary, execute the stored procedure sp_addlinkedserver to add the server to sys.servers.",
        ),
        7222 => (16, "Only a SQL Server provider is allowed on this instance."),
        7224 => (16, "Enabling 'remote proc trans' is not supported on this instance."),
        7303 => (16, "Cannot initialize the data source object of OLE DB provider \"%ls\" for linked server \"%ls\"."),
        7399 => (16, "The OLE DB provider \"%ls\" for linked server \"%ls\" reported an error. %ls"),
        7411 => (16, "Server '%.*ls' is not configured for %ls."),
        7412 => (0, "OLE DB provider \"%ls\" for linked server \"%ls\" returned message \"%ls\"."),
        7416 => (16, "Access to the remote server is denied because no login-mapping exists."),
        8114 => (16, "Error converting data type %ls to %ls."),
        8143 => (16, "Parameter '%.*ls' was supplied multiple times."),
        8144 => (16, "Procedure or function %.*ls has too many arguments specified."),
        8145 => (16, "%.*ls is not a parameter for procedure %.*ls."),
        8179 => (16, "Could not find prepared statement with handle %d."),
        8178 => (
            16,
            "The parameterized query '%.*ls' expects the parameter '%.*ls', which was not supplied.",
        ),
        15002 => (16, "The procedure '%s' cannot be executed within a transaction."),
        15004 => (16, "Name cannot be NULL."),
        15006 => (16, "'%s' is not a valid name because it contains invalid characters."),
        15007 => (16, "'%s' is not a valid login or you do not have permission."),
        15015 => (16, "The server '%s' does not exist. Use sp_helpserver to show available servers."),
        15028 => (16, "The server '%s' already exists."),
        15190 => (16, "There are still remote logins or linked logins for the server '%s'."),
        15205 => (16, "There are no servers defined."),
        15247 => (16, "User does not have permission to perform this action."),
        15426 => (16, "You must specify a provider name with this set of properties."),
        15427 => (16, "You must specify a provider name for unknown product '%ls'."),
        15428 => (16, "You cannot specify a provider or any properties for product '%ls'."),
        15429 => (16, "'%ls' is an invalid product name."),
        15600 => (15, "An invalid parameter or option was specified for procedure '%s'."),
        15663 => (
            16,
            "Feature \"sp_addserver\" is no longer supported. Replace remote servers by using linked servers.",
        ),
        18456 => (14, "Login failed for user '%.*ls'."),
        _ => return None,
    };
    Some(entry)
}

/// Fills the format specifiers of `template` from `args`, in order. A missing argument renders as
/// `(null)`, as RAISERROR does for a NULL argument.
pub fn format(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    let mut next_arg = args.iter();
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let spec_len = [".*ls", "ls", "ld", "s", "d"]
            .iter()
            .find(|spec| after.starts_with(**spec))
            .map(|spec| spec.len());
        match spec_len {
            Some(len) => {
                out.push_str(next_arg.next().copied().unwrap_or("(null)"));
                rest = &after[len..];
            }
            None => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Builds the ERROR/INFO token of a catalogued message. Numbers outside the catalogue (only
/// reachable through fault injection) get severity 16 and a text that names the number.
pub fn message(number: i32, args: &[&str]) -> ServerMessage {
    let (class, text) = match template(number) {
        Some((class, template)) => (class, format(template, args)),
        None => (16, format!("Stand-in injected error {number}.")),
    };
    ServerMessage {
        number,
        state: 1,
        class,
        text,
        server: String::new(),
        procedure: String::new(),
        line: 1,
    }
}

/// Renders an optional name argument the way RAISERROR shows a NULL argument.
pub fn or_null(value: Option<&str>) -> &str {
    value.unwrap_or("(null)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_every_specifier_in_order() {
        let text = format(template(8145).unwrap().1, &["@x", "sp_dropserver"]);
        assert_eq!(text, "@x is not a parameter for procedure sp_dropserver.");
        let text = format(template(119).unwrap().1, &["2"]);
        assert!(text.starts_with("Must pass parameter number 2 and"));
    }

    #[test]
    fn missing_argument_renders_as_null() {
        assert_eq!(
            format(template(15015).unwrap().1, &[]),
            "The server '(null)' does not exist. Use sp_helpserver to show available servers."
        );
    }

    #[test]
    fn percent_without_specifier_is_kept() {
        assert_eq!(format("100% sure %s", &["x"]), "100% sure x");
    }
}
