//! How a step reaches its cluster: a kubeconfig file's context (server, CA, client certificate
//! or bearer token, default namespace) or the pod's service account ([`InCluster`]: its token,
//! CA and namespace files, and the API server's host and port). Only what Docket can use
//! without running programs is read: `exec` and `auth-provider` users are refused with the
//! reason, since a credential plug-in would run with the server's environment.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use reqwest::{Certificate, Client, Identity, Url};
use serde::Deserialize;

use crate::section::Cluster;

/// Where a pod's service account is mounted.
const SERVICE_ACCOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The API server as a pod reaches it when the environment does not say.
const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";

/// Where a pod finds its identity and the API server: the service account's folder (`token`,
/// `ca.crt`, `namespace`) and the API server's host and port (what `KUBERNETES_SERVICE_HOST`
/// and `KUBERNETES_SERVICE_PORT` say in a pod; without them, `kubernetes.default.svc:443`, which
/// a pod's DNS resolves). The runner takes one, so the environment is read by whoever composes
/// the server, and tests point it at their own files and server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InCluster {
    /// The service account's folder.
    pub folder: PathBuf,
    /// The API server's host; without it, `kubernetes.default.svc`.
    pub host: Option<String>,
    /// The API server's port; without it, 443.
    pub port: Option<String>,
}

impl Default for InCluster {
    /// Where Kubernetes mounts a pod's service account, and the API server by its service name.
    fn default() -> Self {
        Self { folder: PathBuf::from(SERVICE_ACCOUNT), host: None, port: None }
    }
}

impl InCluster {
    /// The API server's URL: `https://host:port` (an IPv6 host in brackets).
    fn server(&self) -> Result<Url, ConnectError> {
        let text = match &self.host {
            Some(host) => {
                let host =
                    if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.clone() };
                format!("https://{host}:{}", self.port.as_deref().unwrap_or("443"))
            }
            None => IN_CLUSTER_SERVER.to_owned(),
        };
        Url::parse(&text).map_err(|e| ConnectError::Client { server: text.clone(), why: e.to_string() })
    }
}

/// A cluster ready to call.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    /// The API server.
    pub(crate) server: Url,
    /// A client trusting the cluster's CA and presenting the client certificate, if any.
    pub(crate) client: Client,
    /// The bearer token, if the identity uses one.
    pub(crate) token: Option<String>,
    /// The context's namespace.
    pub(crate) namespace: Option<String>,
}

/// Why a cluster cannot be reached.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    /// The file cannot be read.
    #[error("{path} cannot be read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The kubeconfig is not what Docket can use.
    #[error("the kubeconfig {path}: {why}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The HTTP client cannot be made with these credentials.
    #[error("the client for {server} cannot be set up: {why}")]
    Client {
        /// The server.
        server: String,
        /// Why.
        why: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct KubeConfig {
    #[serde(default)]
    clusters: Vec<NamedCluster>,
    #[serde(default)]
    users: Vec<NamedUser>,
    #[serde(default)]
    contexts: Vec<NamedContext>,
    #[serde(default)]
    current_context: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NamedCluster {
    name: String,
    cluster: ClusterEntry,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ClusterEntry {
    server: String,
    #[serde(default)]
    certificate_authority: Option<String>,
    #[serde(default)]
    certificate_authority_data: Option<String>,
    #[serde(default)]
    insecure_skip_tls_verify: bool,
}

#[derive(Debug, Deserialize)]
struct NamedUser {
    name: String,
    #[serde(default)]
    user: UserEntry,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UserEntry {
    #[serde(default)]
    token: Option<String>,
    #[serde(default, rename = "tokenFile")]
    token_file: Option<String>,
    #[serde(default)]
    client_certificate: Option<String>,
    #[serde(default)]
    client_certificate_data: Option<String>,
    #[serde(default)]
    client_key: Option<String>,
    #[serde(default)]
    client_key_data: Option<String>,
    #[serde(default)]
    exec: Option<serde_json::Value>,
    #[serde(default)]
    auth_provider: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct NamedContext {
    name: String,
    context: ContextEntry,
}

#[derive(Debug, Deserialize)]
struct ContextEntry {
    cluster: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
}

/// The endpoint `cluster` names, its files read now; `pod` says where an in-cluster identity is.
pub(crate) async fn connect(cluster: &Cluster, pod: &InCluster) -> Result<Endpoint, ConnectError> {
    match cluster {
        Cluster::Kubeconfig { path, context } => from_kubeconfig(path, context.as_deref()).await,
        Cluster::InCluster => in_cluster(pod).await,
    }
}

async fn read(path: &Path) -> Result<Vec<u8>, ConnectError> {
    tokio::fs::read(path).await.map_err(|source| ConnectError::Read { path: path.to_path_buf(), source })
}

async fn from_kubeconfig(path: &Path, context: Option<&str>) -> Result<Endpoint, ConnectError> {
    let invalid = |why: String| ConnectError::Invalid { path: path.to_path_buf(), why };
    let bytes = read(path).await?;
    let text = String::from_utf8(bytes).map_err(|_| invalid("it is not UTF-8 text".to_owned()))?;
    let config: KubeConfig = serde_saphyr::from_str(&text).map_err(|e| invalid(first_line(&e.to_string())))?;
    let folder = path.parent().unwrap_or_else(|| Path::new("."));
    let name = context
        .or(config.current_context.as_deref())
        .ok_or_else(|| invalid("it has no current-context; name a context in the `kubernetes` section".to_owned()))?;
    let ctx = config.contexts.iter().find(|c| c.name == name).ok_or_else(|| {
        let known: Vec<&str> = config.contexts.iter().map(|c| c.name.as_str()).collect();
        invalid(format!("it has no context `{name}` (it has: {})", known.join(", ")))
    })?;
    let cluster =
        config.clusters.iter().find(|c| c.name == ctx.context.cluster).ok_or_else(|| {
            invalid(format!("context `{name}` names cluster `{}`, which it lacks", ctx.context.cluster))
        })?;
    let user = match &ctx.context.user {
        Some(user) => Some(
            config
                .users
                .iter()
                .find(|u| &u.name == user)
                .ok_or_else(|| invalid(format!("context `{name}` names user `{user}`, which it lacks")))?,
        ),
        None => None,
    };
    let entry = &cluster.cluster;
    let server = Url::parse(&entry.server).map_err(|e| invalid(format!("server {:?}: {e}", entry.server)))?;
    let ca = match (&entry.certificate_authority_data, &entry.certificate_authority) {
        (Some(data), _) => {
            Some(decode(data).map_err(|_| invalid("certificate-authority-data is not base64".to_owned()))?)
        }
        (None, Some(file)) => Some(read(&folder.join(file)).await?),
        (None, None) => None,
    };
    let mut token = None;
    let mut identity = None;
    if let Some(user) = user {
        let u = &user.user;
        if u.exec.is_some() || u.auth_provider.is_some() {
            return Err(invalid(format!(
                "user `{}` gets its credentials from a program (exec or auth-provider), which Docket does not run; \
                 give this identity a token or a client certificate",
                user.name
            )));
        }
        token = match (&u.token, &u.token_file) {
            (Some(t), _) => Some(t.trim().to_owned()),
            (None, Some(file)) => Some(text_of(read(&folder.join(file)).await?)),
            (None, None) => None,
        };
        let cert = match (&u.client_certificate_data, &u.client_certificate) {
            (Some(data), _) => Some(decode(data).map_err(|_| invalid("client-certificate-data is not base64".into()))?),
            (None, Some(file)) => Some(read(&folder.join(file)).await?),
            (None, None) => None,
        };
        let key = match (&u.client_key_data, &u.client_key) {
            (Some(data), _) => Some(decode(data).map_err(|_| invalid("client-key-data is not base64".into()))?),
            (None, Some(file)) => Some(read(&folder.join(file)).await?),
            (None, None) => None,
        };
        identity = match (cert, key) {
            (Some(mut cert), Some(key)) => {
                cert.push(b'\n');
                cert.extend(key);
                Some(cert)
            }
            (None, None) => None,
            _ => return Err(invalid(format!("user `{}` has a client certificate without its key", user.name))),
        };
    }
    let client = client(&server, ca.as_deref(), identity.as_deref(), entry.insecure_skip_tls_verify)?;
    Ok(Endpoint { server, client, token, namespace: ctx.context.namespace.clone() })
}

async fn in_cluster(pod: &InCluster) -> Result<Endpoint, ConnectError> {
    let folder = &pod.folder;
    let token = text_of(read(&folder.join("token")).await?);
    let ca = read(&folder.join("ca.crt")).await?;
    let namespace = tokio::fs::read(folder.join("namespace")).await.ok().map(text_of).filter(|n| !n.is_empty());
    let server = pod.server()?;
    let client = client(&server, Some(&ca), None, false)?;
    Ok(Endpoint { server, client, token: Some(token), namespace })
}

fn client(server: &Url, ca: Option<&[u8]>, identity: Option<&[u8]>, insecure: bool) -> Result<Client, ConnectError> {
    let failed = |why: String| ConnectError::Client { server: server.to_string(), why };
    let mut builder = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(std::time::Duration::from_secs(10))
        .user_agent(concat!("docket/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = ca {
        for cert in Certificate::from_pem_bundle(ca).map_err(|e| failed(format!("the CA certificate: {e}")))? {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Some(pem) = identity {
        let identity = Identity::from_pem(pem).map_err(|e| failed(format!("the client certificate: {e}")))?;
        builder = builder.identity(identity);
    }
    if insecure {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| failed(e.to_string()))
}

fn decode(data: &str) -> Result<Vec<u8>, base64::DecodeError> {
    base64::engine::general_purpose::STANDARD.decode(data.trim())
}

fn text_of(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim().to_owned()
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn the_in_cluster_server_is_its_host_and_port_else_the_service_name() {
        let pod = |host: Option<&str>, port: Option<&str>| InCluster {
            folder: PathBuf::from("/sa"),
            host: host.map(str::to_owned),
            port: port.map(str::to_owned),
        };
        assert_eq!(pod(None, None).server().unwrap().as_str(), "https://kubernetes.default.svc/");
        assert_eq!(pod(Some("10.96.0.1"), Some("443")).server().unwrap().as_str(), "https://10.96.0.1/");
        assert_eq!(pod(Some("10.96.0.1"), Some("6443")).server().unwrap().as_str(), "https://10.96.0.1:6443/");
        assert_eq!(pod(Some("fd00::1"), Some("6443")).server().unwrap().as_str(), "https://[fd00::1]:6443/");
        assert_eq!(InCluster::default().folder, PathBuf::from(SERVICE_ACCOUNT));
    }
}
