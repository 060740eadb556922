//! Web sign-in against a fake OpenID Connect provider on a real loopback socket, with an RSA
//! key made here: discovery, the authorize redirect (PKCE S256, state, nonce), the token
//! endpoint (checks the code, redirect URI, verifier and client secret) and the key set.
//! Cases: a sign-in that works, a wrong `state`, a token signed with another key, and a person
//! Docket does not know — each refusal audited, none leaving a session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use docket_testkit::TestApp;
use docket_web::{OidcOptions, WebOptions};
use rsa::PrivateKey as RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::browser::Browser;

const CLIENT_ID: &str = "docket-web";
const CLIENT_SECRET: &str = "oidc-client-secret-for-tests";
const PUBLIC_URL: &str = "http://docket.test";

/// An RSA key pair made once per test run (the provider's, and a stranger's).
fn key(which: usize) -> &'static RsaPrivateKey {
    static KEYS: OnceLock<Vec<RsaPrivateKey>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        (0..2).map(|_| RsaPrivateKey::new(&mut getrandom::SysRng, 2048).expect("an RSA key")).collect()
    });
    &keys[which]
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Who signs in next, and how the provider behaves.
#[derive(Clone)]
struct Login {
    sub: String,
    email: String,
    /// Sign ID tokens with the stranger's key (under the provider's key id).
    forge: bool,
    /// Whether the provider vouches for the email.
    verified: bool,
}

struct Issued {
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

struct Fake {
    issuer: String,
    login: Mutex<Login>,
    codes: Mutex<HashMap<String, Issued>>,
}

async fn discovery(State(fake): State<Arc<Fake>>) -> Response {
    let i = &fake.issuer;
    axum::Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
    }))
    .into_response()
}

async fn authorize(State(fake): State<Arc<Fake>>, Query(q): Query<HashMap<String, String>>) -> Response {
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["scope"].split(' ').any(|s| s == "openid"));
    let code = format!("code-{}", fake.codes.lock().unwrap().len());
    let issued = Issued {
        nonce: q["nonce"].clone(),
        challenge: q["code_challenge"].clone(),
        redirect_uri: q["redirect_uri"].clone(),
    };
    fake.codes.lock().unwrap().insert(code.clone(), issued);
    Redirect::to(&format!("{}?code={code}&state={}", q["redirect_uri"], q["state"])).into_response()
}

async fn token(State(fake): State<Arc<Fake>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let refuse = |error: &str| (StatusCode::BAD_REQUEST, axum::Json(json!({ "error": error }))).into_response();
    if form.get("grant_type").map(String::as_str) != Some("authorization_code")
        || form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return refuse("invalid_client");
    }
    let Some(issued) = form.get("code").and_then(|c| fake.codes.lock().unwrap().remove(c)) else {
        return refuse("invalid_grant");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if b64(&Sha256::digest(verifier.as_bytes())) != issued.challenge
        || form.get("redirect_uri") != Some(&issued.redirect_uri)
    {
        return refuse("invalid_grant");
    }
    let login = fake.login.lock().unwrap().clone();
    let now = jiff::Timestamp::now().as_second();
    let claims = json!({
        "iss": fake.issuer, "aud": CLIENT_ID, "sub": login.sub, "email": login.email, "email_verified": login.verified,
        "nonce": issued.nonce, "iat": now, "exp": now + 300,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("k1".to_owned());
    let signer = key(usize::from(login.forge));
    let der = signer.to_pkcs1_der().unwrap();
    let id_token =
        jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes())).unwrap();
    axum::Json(json!({ "access_token": "at", "token_type": "Bearer", "id_token": id_token })).into_response()
}

async fn jwks() -> Response {
    let public = key(0).to_public_key();
    let trim = |bytes: Box<[u8]>| bytes.iter().copied().skip_while(|b| *b == 0).collect::<Vec<u8>>();
    axum::Json(json!({ "keys": [{
        "kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
        "n": b64(&trim(public.n().to_be_bytes())), "e": b64(&trim(public.e().to_be_bytes())),
    }]}))
    .into_response()
}

/// The fake provider on a free port, and Docket's router signing in through it.
async fn start(login: Login) -> (TestApp, Browser, Arc<Fake>) {
    start_with(login, docket_testkit::fixture::DOCKET_YAML).await
}

async fn start_with(login: Login, docket_yaml: &str) -> (TestApp, Browser, Arc<Fake>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let fake = Arc::new(Fake { issuer: issuer.clone(), login: Mutex::new(login), codes: Mutex::new(HashMap::new()) });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route("/jwks", get(jwks))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let kit =
        TestApp::builder().config(docket_yaml).settings(|s| s.public_url = Some(PUBLIC_URL.to_owned())).start().await;
    let oidc = OidcOptions {
        issuer,
        client_id: CLIENT_ID.to_owned(),
        client_secret: CLIENT_SECRET.to_owned(),
        scopes: vec!["email".to_owned()],
    };
    let router = docket_web::router(kit.app.clone(), WebOptions { oidc: Some(oidc), ..WebOptions::default() });
    (kit, Browser::new(router), fake)
}

fn alice() -> Login {
    Login { sub: "idp|alice".to_owned(), email: "Alice@Example.com".to_owned(), forge: false, verified: true }
}

/// Goes to the provider from `/login` and comes back with its redirect: the callback path.
async fn round_trip(browser: &mut Browser) -> String {
    let login = browser.get("/login?next=/tickets").await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    assert!(browser.cookies.contains_key("docket_login"), "the state is tied to this browser");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let at_provider = client.get(login.location()).send().await.unwrap();
    assert_eq!(at_provider.status(), StatusCode::SEE_OTHER);
    let back = at_provider.headers()["location"].to_str().unwrap().to_owned();
    back.strip_prefix(PUBLIC_URL).unwrap().to_owned()
}

async fn failures(kit: &TestApp) -> Vec<String> {
    let records = kit.app.audit_records(0, 1000).await.unwrap();
    records
        .into_iter()
        .filter(|r| r.entry.action == "web.authentication_failed")
        .map(|r| r.entry.details.to_string())
        .collect()
}

#[tokio::test]
async fn signs_in_with_the_provider_matching_people_by_email() {
    let (_kit, mut browser, _fake) = start(alice()).await;
    let callback = round_trip(&mut browser).await;
    let back = browser.get(&callback).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(back.location(), "/tickets");
    assert!(!browser.cookies.contains_key("docket_login"), "the sign-in cookie is cleared");
    let page = browser.visit("/tickets").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("title=\"alice\">Alice Ng</span>"), "{}", page.body);
    // The same callback cannot be used twice.
    let again = browser.get(&callback).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_subject_matches_before_the_email() {
    let yaml =
        docket_testkit::fixture::DOCKET_YAML.replace("teams: aad-bob,", "teams: aad-bob, oidc_subject: \"idp|4711\",");
    assert_ne!(yaml, docket_testkit::fixture::DOCKET_YAML);
    // The provider says alice's email, but the subject is bob's: the subject decides.
    let login = Login { sub: "idp|4711".to_owned(), email: "alice@example.com".to_owned(), ..alice() };
    let (_kit, mut browser, _fake) = start_with(login, &yaml).await;
    let callback = round_trip(&mut browser).await;
    assert_eq!(browser.get(&callback).await.status, StatusCode::SEE_OTHER);
    let page = browser.visit("/").await;
    assert!(page.body.contains("title=\"bob\">Bob Ruiz</span>"), "{}", page.body);
}

#[tokio::test]
async fn a_wrong_state_is_refused_and_audited() {
    let (kit, mut browser, _fake) = start(alice()).await;
    let callback = round_trip(&mut browser).await;
    let (path, query) = callback.split_once('?').unwrap();
    let tampered: String = query
        .split('&')
        .map(|pair| if pair.starts_with("state=") { "state=0000".to_owned() } else { pair.to_owned() })
        .collect::<Vec<_>>()
        .join("&");
    let page = browser.get(&format!("{path}?{tampered}")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("was not started from this browser"), "{}", page.body);
    assert!(!browser.cookies.contains_key("docket_session"));
    assert!(failures(&kit).await.iter().any(|d| d.contains("unknown or reused state")));
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_refused_and_audited() {
    let (kit, mut browser, _fake) = start(Login { forge: true, ..alice() }).await;
    let callback = round_trip(&mut browser).await;
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains("ID token is not valid"), "{}", page.body);
    assert!(!browser.cookies.contains_key("docket_session"));
    let failures = failures(&kit).await;
    assert!(failures.iter().any(|d| d.contains("InvalidSignature") || d.contains("signature")), "{failures:?}");
}

#[tokio::test]
async fn someone_not_in_the_directory_gets_a_clear_page_and_an_audit_record() {
    let login = Login { sub: "idp|mallory".to_owned(), email: "mallory@example.com".to_owned(), ..alice() };
    let (kit, mut browser, _fake) = start(login).await;
    let callback = round_trip(&mut browser).await;
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("nobody in Docket"), "{}", page.body);
    assert!(page.body.contains("mallory@example.com"));
    assert!(!browser.cookies.contains_key("docket_session"));
    assert!(failures(&kit).await.iter().any(|d| d.contains("not in the directory: mallory@example.com")));
}

#[tokio::test]
async fn an_email_the_provider_does_not_vouch_for_matches_nobody() {
    let (kit, mut browser, _fake) = start(Login { verified: false, ..alice() }).await;
    let callback = round_trip(&mut browser).await;
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(!browser.cookies.contains_key("docket_session"));
    assert!(failures(&kit).await.iter().any(|d| d.contains("not in the directory: subject idp|alice")));
}

#[tokio::test]
async fn without_a_reachable_provider_sign_in_says_so() {
    let kit = TestApp::builder().settings(|s| s.public_url = Some(PUBLIC_URL.to_owned())).start().await;
    let oidc = OidcOptions {
        issuer: "http://127.0.0.1:9".to_owned(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: CLIENT_SECRET.to_owned(),
        scopes: Vec::new(),
    };
    let mut browser =
        Browser::new(docket_web::router(kit.app.clone(), WebOptions { oidc: Some(oidc), ..WebOptions::default() }));
    let page = browser.get("/login").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains("Sign-in is unavailable"));
}
