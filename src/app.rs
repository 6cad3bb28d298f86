//! The one wiring of the server, used by `serve`, `dev` and the tests alike: bind the
//! listener, start the [`Service`], then run the HTTP edge and the key refresh until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tracing::info;

use crate::http::{self, HttpOptions};
use crate::service::{Service, ServiceOptions, Settling};
use crate::{Error, Result};

/// Everything the server is built from.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// Address to bind (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    pub service: ServiceOptions,
    pub http: HttpOptions,
}

/// A bound, built server that has not started serving.
pub struct App {
    listener: TcpListener,
    addr: SocketAddr,
    service: Arc<Service>,
    http: HttpOptions,
    /// The recorded key state being read, when the service was started here.
    settling: Option<Settling>,
}

impl App {
    /// Binds first, so a client connecting during start-up waits in the listen backlog rather
    /// than being refused; then starts the service (keys, Firestore). The recorded key state
    /// is read while [`App::run`] already serves: a sign-in sent at once does its Firestore
    /// reads and password check beside that read, and waits for it only to sign.
    pub async fn build(options: AppOptions) -> Result<App> {
        let listener = bind(options.listen, "--port or --listen").await?;
        let (service, settling) = Service::start(options.service).await?;
        let mut app = App::new(listener, service, options.http)?;
        app.settling = Some(settling);
        Ok(app)
    }

    /// A server over a listener and a service built elsewhere (`dev` builds its service
    /// while its emulator starts).
    pub fn new(listener: TcpListener, service: Arc<Service>, http: HttpOptions) -> Result<App> {
        let addr = listener.local_addr().map_err(|source| Error::Io {
            what: "cannot read the listening address".into(),
            source,
        })?;
        Ok(App {
            listener,
            addr,
            service,
            http,
            settling: None,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The service behind the routes.
    pub fn service(&self) -> &Arc<Service> {
        &self.service
    }

    /// Serves until `shutdown` completes, keeping the keys fresh meanwhile; returns once
    /// in-flight requests have finished (or the grace period ran out). When start-up fails
    /// to settle the signing key, serving stops and that error is returned.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let App {
            listener,
            addr,
            service,
            http: options,
            settling,
        } = self;
        let (failed, on_failure) = tokio::sync::oneshot::channel::<()>();
        // `failed` dropped unsent (start-up went well) disables the second branch.
        let stop = async move {
            tokio::select! {
                () = shutdown => {}
                Ok(()) = on_failure => {}
            }
        };
        let started = async {
            if let Some(settling) = settling
                && let Err(e) = settling.finished().await
            {
                let _ = failed.send(());
                return Err(e);
            }
            let signer = service.signer.info();
            info!(
                %addr,
                signer = signer.signer,
                kid = signer.key_id.unwrap_or_default(),
                "listening"
            );
            if service.signer.key_ring().is_none() {
                // Not before serving, so the first sign-in does not wait for it: a missing
                // permission or a disabled API shows in the log before a user meets it.
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = service.signer.probe().await;
                });
            }
            Ok((
                tokio::spawn(service.clone().keep_keys_fresh()),
                tokio::spawn(
                    service
                        .clone()
                        .keep_firebase_in_step(std::time::Duration::from_secs(30)),
                ),
            ))
        };
        let (served, started) = tokio::join!(
            http::serve(listener, service.clone(), &options, stop),
            started
        );
        let (refresher, bridge) = started?;
        refresher.abort();
        bridge.abort();
        served.map_err(|source| Error::Io {
            what: "the server stopped".into(),
            source,
        })
    }
}

/// Binds `addr`, naming it and the fix (`flags`, the command's own) when it is taken.
pub async fn bind(addr: SocketAddr, flags: &str) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|source| Error::Io {
        what: format!("cannot listen on {addr} (choose another with {flags})"),
        source,
    })
}

/// Completes on SIGTERM (Cloud Run) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    info!("shutdown signal received; finishing in-flight requests");
}
