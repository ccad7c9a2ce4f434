//! Accepting connections and running each one: PRELOGIN → (TLS) → LOGIN7 → requests.
//!
//! CONTRACT (used by tests, the binary and the library's tests; keep these signatures):
//! - `spawn(config) -> std::io::Result<StandIn>`: binds, generates the certificate, serves on a
//!   background thread with its own tokio runtime; returns once listening.
//! - `StandIn::addr() -> SocketAddr`, `StandIn::instance() -> Arc<Instance>`,
//!   `StandIn::cert_pem() -> &str`, `StandIn::cert_path() -> &Path` (PEM written to a temp file
//!   when `cert_out` is not set), `StandIn::connection_string(user, password) -> String`
//!   (an ADO.NET string that trusts this instance's certificate), dropping it stops the server.
//! - `serve(config, ready: impl FnOnce(SocketAddr))` async, for the binary.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::connection::{self, Backend, Listener};
use super::tls::ServerIdentity;
use crate::config::{EncryptMode, InstanceConfig};
use crate::engine::Instance;

/// A running stand-in on a background thread; dropping it stops the server.
pub struct StandIn {
    addr: SocketAddr,
    instance: Arc<Instance>,
    encrypt: EncryptMode,
    certificate: Certificate,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// The certificate's PEM and where it was written (removed on drop when it is a temp file).
struct Certificate {
    pem: String,
    path: PathBuf,
    temporary: bool,
}

impl Drop for Certificate {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Everything a server needs before it accepts: the engine, TLS settings and the certificate.
struct Prepared {
    instance: Arc<Instance>,
    listener: Arc<Listener<Arc<Instance>>>,
    certificate: Certificate,
}

fn prepare(config: InstanceConfig) -> io::Result<Prepared> {
    let identity = ServerIdentity::generate(&config.server_name)?;
    let certificate = write_certificate(&identity.cert_pem, config.cert_out.as_deref())?;
    let encrypt = config.encrypt;
    let instance = Instance::new(config).map_err(io::Error::other)?;
    let listener = Arc::new(Listener {
        backend: instance.clone(),
        encrypt,
        tls: identity.server_config(false)?,
        strict_tls: identity.server_config(true)?,
    });
    Ok(Prepared {
        instance,
        listener,
        certificate,
    })
}

fn write_certificate(pem: &str, cert_out: Option<&Path>) -> io::Result<Certificate> {
    static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);
    let (path, temporary) = match cert_out {
        Some(path) => (path.to_path_buf(), false),
        None => {
            let unique = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let name = format!("tds-standin-{}-{unique}.pem", std::process::id());
            (std::env::temp_dir().join(name), true)
        }
    };
    std::fs::write(&path, pem)?;
    Ok(Certificate {
        pem: pem.to_string(),
        path,
        temporary,
    })
}

/// Accepts until `shutdown` completes; each connection runs on its own task.
pub(crate) async fn accept_loop<B: Backend>(
    tcp: TcpListener,
    listener: Arc<Listener<B>>,
    shutdown: impl Future<Output = ()>,
) {
    // SQL Server gives user connections session ids from 51 up.
    let next_spid = AtomicU16::new(51);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = tcp.accept() => match accepted {
                Ok((stream, peer)) => {
                    let spid = next_spid.fetch_add(1, Ordering::Relaxed);
                    let listener = listener.clone();
                    tokio::spawn(async move {
                        if let Err(error) = connection::run(listener, stream, spid).await {
                            if !is_disconnect(&error) {
                                eprintln!("tds-standin: connection from {peer}: {error}");
                            }
                        }
                    });
                }
                Err(error) => eprintln!("tds-standin: accept failed: {error}"),
            },
        }
    }
}

fn is_disconnect(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
    )
}

/// Binds `addr` and serves `listener` on a new thread with its own runtime.
pub(crate) fn spawn_listener<B: Backend>(
    addr: SocketAddr,
    listener: Arc<Listener<B>>,
) -> io::Result<(SocketAddr, oneshot::Sender<()>, JoinHandle<()>)> {
    let std_listener = std::net::TcpListener::bind(addr)?;
    std_listener.set_nonblocking(true)?;
    let bound = std_listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("tds-standin")
        .build()?;
    let tcp = {
        let _guard = runtime.enter();
        TcpListener::from_std(std_listener)?
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("tds-standin".into())
        .spawn(move || {
            runtime.block_on(accept_loop(tcp, listener, async {
                let _ = stopped.await;
            }));
            // Dropping the runtime cancels the connection tasks.
        })?;
    Ok((bound, stop, thread))
}

pub fn spawn(config: InstanceConfig) -> io::Result<StandIn> {
    let listen = config.listen;
    let encrypt = config.encrypt;
    let prepared = prepare(config)?;
    let (addr, stop, thread) = spawn_listener(listen, prepared.listener)?;
    Ok(StandIn {
        addr,
        instance: prepared.instance,
        encrypt,
        certificate: prepared.certificate,
        shutdown: Some(stop),
        thread: Some(thread),
    })
}

/// Serves until the process ends; `ready` gets the bound address once listening.
pub async fn serve(config: InstanceConfig, ready: impl FnOnce(SocketAddr)) -> io::Result<()> {
    let listen = config.listen;
    let prepared = prepare(config)?;
    let tcp = TcpListener::bind(listen).await?;
    ready(tcp.local_addr()?);
    // Keep the certificate file for the life of the server.
    let _certificate = prepared.certificate;
    accept_loop(tcp, prepared.listener, std::future::pending()).await;
    Ok(())
}

impl StandIn {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn instance(&self) -> Arc<Instance> {
        self.instance.clone()
    }

    pub fn cert_pem(&self) -> &str {
        &self.certificate.pem
    }

    pub fn cert_path(&self) -> &Path {
        &self.certificate.path
    }

    /// An ADO.NET connection string for this instance that validates its certificate.
    pub fn connection_string(&self, user: &str, password: &str) -> String {
        let encrypt = match self.encrypt {
            EncryptMode::Strict => "strict",
            EncryptMode::On => "true",
            EncryptMode::Login => "false",
            // linkedsrv refuses a server without TLS unless told explicitly.
            EncryptMode::Off => "DANGER_PLAINTEXT",
        };
        format!(
            "Server=tcp:{},{};User ID={};Password={};Encrypt={encrypt};\
             TrustServerCertificate=false;ServerCertificate={}",
            self.addr.ip(),
            self.addr.port(),
            quote_value(user),
            quote_value(password),
            self.certificate.path.display()
        )
    }
}

/// ADO.NET quoting: values with `;`, quotes or edge spaces go in double quotes, doubling `"`.
fn quote_value(value: &str) -> String {
    let needs_quotes = value.contains([';', '"', '\''])
        || value.starts_with(char::is_whitespace)
        || value.ends_with(char::is_whitespace);
    if needs_quotes {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quote_value;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote_value("sa"), "sa");
        assert_eq!(quote_value("a;b"), "\"a;b\"");
        assert_eq!(quote_value("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
