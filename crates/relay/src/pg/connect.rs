//! Opening the database: the URL read (with the TLS parts tokio-postgres
//! does not know taken out), TLS where the URL asks for it, the pool, and
//! the runtime the connections live on.
//!
//! TLS follows `sslmode`: `disable`, `allow` and `prefer` (the default)
//! connect in the clear; `require`, `verify-ca` and `verify-full` connect
//! over TLS (rustls) and always verify the server's certificate and name,
//! against the webpki roots plus the PEM file named by `sslrootcert`. A
//! certificate that does not verify fails the connection: there is no
//! "encrypted but unverified" mode, unlike libpq's `require`.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use samizdat_store::{StoreError, StoreResult};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::NoTls;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::backend;

/// How long a caller waits for a new connection to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how to connect, read from the URL.
#[derive(Clone)]
pub(super) struct Target {
    /// tokio-postgres' settings (the schema's `search_path` included).
    pub(super) config: tokio_postgres::Config,
    /// Clear or verified TLS.
    pub(super) tls: Tls,
    /// For logs: host, database, schema, TLS; no password.
    pub(super) described: String,
}

/// The transport a connection uses.
#[derive(Clone)]
pub(super) enum Tls {
    /// In the clear (`sslmode` disable, allow or prefer).
    Off,
    /// TLS with the certificate verified.
    Verified(MakeRustlsConnect),
}

fn bad_url(message: String) -> StoreError {
    StoreError::Backend {
        operation: "reading the database URL",
        message,
    }
}

/// Takes `sslmode` and `sslrootcert` out of a URL (`postgres://…?k=v&…`) or a
/// key/value string (`host=… sslmode=…`): what is left, the mode, the file.
fn split_tls(url: &str) -> (String, Option<String>, Option<String>) {
    let mut mode = None;
    let mut root = None;
    let mut take = |key: &str, value: &str| match key {
        "sslmode" => {
            mode = Some(value.to_string());
            false
        }
        "sslrootcert" => {
            root = Some(value.to_string());
            false
        }
        _ => true,
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            Some((base, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|p| {
                        let (k, v) = p.split_once('=').unwrap_or((p, ""));
                        take(k, v)
                    })
                    .collect();
                if kept.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => url.to_string(),
        }
    } else {
        url.split_whitespace()
            .filter(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                take(k.trim(), v.trim())
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    (rest, mode, root)
}

/// Reads `url`; with `schema`, every connection's `search_path` is that
/// schema (checked: letters, digits and `_`).
pub(super) fn target(url: &str, schema: Option<&str>) -> StoreResult<Target> {
    let (rest, mode, root) = split_tls(url);
    let mut config: tokio_postgres::Config =
        rest.parse().map_err(backend("reading the database URL"))?;
    if let Some(schema) = schema {
        if !schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::Backend {
                operation: "choosing a schema",
                message: format!("schema name {schema:?} may hold letters, digits and _ only"),
            });
        }
        config.options(format!("-c search_path={schema}"));
    }
    let verified = match mode.as_deref() {
        None | Some("disable" | "allow" | "prefer") => false,
        Some("require" | "verify-ca" | "verify-full") => true,
        Some(other) => {
            return Err(bad_url(format!(
            "sslmode={other} is not one of disable, allow, prefer, require, verify-ca, verify-full"
        )))
        }
    };
    if root.is_some() && !verified {
        return Err(bad_url(
            "sslrootcert is given but sslmode does not ask for TLS (use sslmode=require)".into(),
        ));
    }
    let tls = if verified {
        config.ssl_mode(SslMode::Require);
        Tls::Verified(MakeRustlsConnect::new(tls_config(root.as_deref())?))
    } else {
        config.ssl_mode(SslMode::Disable);
        Tls::Off
    };
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_default();
    let described = format!(
        "postgres {host}/{}{}{}",
        config.get_dbname().unwrap_or(""),
        schema.map(|s| format!(" schema {s}")).unwrap_or_default(),
        if verified { " (TLS)" } else { "" }
    );
    Ok(Target {
        config,
        tls,
        described,
    })
}

/// rustls with the ring provider, the webpki roots and the certificates of
/// `root_file` (PEM).
fn tls_config(root_file: Option<&str>) -> StoreResult<rustls::ClientConfig> {
    let err = |message: String| StoreError::Backend {
        operation: "setting up TLS to the database",
        message,
    };
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = root_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect())
            .map_err(|e| err(format!("reading sslrootcert {path}: {e}")))?;
        if certs.is_empty() {
            return Err(err(format!("sslrootcert {path} holds no certificate")));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| err(format!("sslrootcert {path}: {e}")))?;
        }
    }
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| err(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

/// A pool of at most `size` connections (opened as needed, checked with a
/// cheap test when handed out again). Waiters are served in order.
pub(super) fn pool(target: &Target, size: usize) -> StoreResult<Pool> {
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = match &target.tls {
        Tls::Off => Manager::from_config(target.config.clone(), NoTls, manager_config),
        Tls::Verified(tls) => {
            Manager::from_config(target.config.clone(), tls.clone(), manager_config)
        }
    };
    Pool::builder(manager)
        .max_size(size.max(1))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .create_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(|e| StoreError::Backend {
            operation: "making the connection pool",
            message: e.to_string(),
        })
}

/// One connection outside the pool (the cluster's listener), with its
/// connection task handed to `drive`.
pub(super) async fn connect_one(
    target: &Target,
) -> StoreResult<(
    tokio_postgres::Client,
    std::pin::Pin<Box<dyn ConnectionTask>>,
)> {
    let err = backend("connecting");
    Ok(match &target.tls {
        Tls::Off => {
            let (client, conn) = target.config.connect(NoTls).await.map_err(err)?;
            (client, Box::pin(conn))
        }
        Tls::Verified(tls) => {
            let (client, conn) = target.config.connect(tls.clone()).await.map_err(err)?;
            (client, Box::pin(conn))
        }
    })
}

/// A connection's task, whichever the transport: polled for its messages
/// (notifications).
pub(super) trait ConnectionTask: Send {
    /// The next message from the server (`None`: the connection ended).
    fn poll_message(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<tokio_postgres::AsyncMessage, tokio_postgres::Error>>>;
}

impl<S, T> ConnectionTask for tokio_postgres::Connection<S, T>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
{
    fn poll_message(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<tokio_postgres::AsyncMessage, tokio_postgres::Error>>> {
        tokio_postgres::Connection::poll_message(self.get_mut(), cx)
    }
}

/// The runtime the store's connections live on (two threads), whoever
/// calls: the relay's blocking pool, a plain thread, a test.
pub(super) struct PgRuntime(Option<tokio::runtime::Runtime>);

impl PgRuntime {
    pub(super) fn new() -> StoreResult<Self> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("samizdat-pg")
            .enable_all()
            .build()
            .map(|rt| Self(Some(rt)))
            .map_err(|e| StoreError::Backend {
                operation: "starting the database runtime",
                message: e.to_string(),
            })
    }

    /// Runs `fut` to its end on this runtime, blocking the calling thread
    /// (which must not be a runtime's worker: see `off_runtime`).
    pub(super) fn block_on<T>(
        &self,
        fut: impl std::future::Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        match &self.0 {
            Some(rt) => rt.block_on(fut),
            None => Err(StoreError::Backend {
                operation: "running a database call",
                message: "the store is closing".into(),
            }),
        }
    }

    /// `fut`, polled wherever it is awaited (the relay's runtime) but with
    /// this runtime as the context: a connection the pool opens meanwhile
    /// lives here, not on the caller's runtime.
    pub(super) fn in_context<'a, T>(
        &self,
        fut: impl std::future::Future<Output = StoreResult<T>> + Send + 'a,
    ) -> crate::storage::Pending<'a, T> {
        let handle = self.0.as_ref().map(|rt| rt.handle().clone());
        let mut fut = Box::pin(fut);
        Box::pin(std::future::poll_fn(move |cx| {
            let _context = handle.as_ref().map(|h| h.enter());
            fut.as_mut().poll(cx)
        }))
    }

    /// Spawns `fut` on this runtime.
    pub(super) fn spawn(&self, fut: impl std::future::Future<Output = ()> + Send + 'static) {
        if let Some(rt) = &self.0 {
            rt.spawn(fut);
        }
    }
}

impl Drop for PgRuntime {
    /// Without waiting: the store may be dropped inside another runtime.
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parts_are_taken_out_of_urls() {
        assert_eq!(
            split_tls(
                "postgres://u:p@h:5/db?sslmode=require&sslrootcert=/ca.pem&application_name=x"
            ),
            (
                "postgres://u:p@h:5/db?application_name=x".into(),
                Some("require".into()),
                Some("/ca.pem".into())
            )
        );
        assert_eq!(
            split_tls("postgres://h/db?sslmode=disable"),
            ("postgres://h/db".into(), Some("disable".into()), None)
        );
        assert_eq!(
            split_tls("host=h dbname=d sslmode=verify-full"),
            ("host=h dbname=d".into(), Some("verify-full".into()), None)
        );
        assert_eq!(
            split_tls("postgres://h/db"),
            ("postgres://h/db".into(), None, None)
        );
    }

    #[test]
    fn bad_tls_settings_are_named() {
        let e = target("postgres://h/db?sslmode=sometimes", None)
            .err()
            .unwrap();
        assert!(e.to_string().contains("sslmode=sometimes"), "{e}");
        let e = target("postgres://h/db?sslrootcert=/x.pem", None)
            .err()
            .unwrap();
        assert!(
            e.to_string().contains("sslmode does not ask for TLS"),
            "{e}"
        );
        let e = target(
            "postgres://h/db?sslmode=require&sslrootcert=/nonexistent.pem",
            None,
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("/nonexistent.pem"), "{e}");
        let e = target("postgres://h/db", Some("a;drop")).err().unwrap();
        assert!(e.to_string().contains("letters, digits"), "{e}");
        let t = target("postgres://u:secret@h/db?sslmode=require", Some("s1")).unwrap();
        assert_eq!(t.described, "postgres h/db schema s1 (TLS)");
        assert!(!t.described.contains("secret"));
    }
}
