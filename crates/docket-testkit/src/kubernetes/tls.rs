//! The fake over TLS: a listener that completes a TLS handshake (the fake's own certificate for
//! `127.0.0.1`, `localhost` and `kubernetes.default.svc`, signed by [`CA_PEM`]) before handing
//! the connection to the router, as an API server a pod reaches with its service account's
//! `ca.crt` would.

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;

/// The CA that signed the fake's certificate: what a pod's `ca.crt` would hold.
pub const CA_PEM: &str = include_str!("tls/ca.pem");
const SERVER_PEM: &str = include_str!("tls/server.pem");
const SERVER_KEY_PEM: &str = include_str!("tls/server.key.pem");

/// A TCP listener whose connections are served after a TLS handshake.
pub(crate) struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl TlsListener {
    pub(crate) fn new(tcp: TcpListener) -> Self {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(SERVER_PEM.as_bytes())
            .collect::<Result<_, _>>()
            .expect("the fake's certificate");
        let key = PrivateKeyDer::from_pem_slice(SERVER_KEY_PEM.as_bytes()).expect("the fake's key");
        let config =
            ServerConfig::builder().with_no_client_auth().with_single_cert(certs, key).expect("a TLS server config");
        Self { tcp, acceptor: TlsAcceptor::from(Arc::new(config)) }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else { continue };
            // A client that fails the handshake (one that does not trust the CA) is dropped.
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
