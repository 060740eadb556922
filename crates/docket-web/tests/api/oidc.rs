//! Web sign-in against a fake OpenID Connect provider on a real loopback socket, with an RSA
//! key made here: discovery, the authorize redirect (PKCE S256, state, nonce, and `iss` as RFC
//! 9207 has it), the token endpoint (checks the code, redirect URI, verifier and client secret,
//! in the body or with Basic as the provider registered it), UserInfo (checks the access
//! token) and the key set. Cases: a sign-in that works, with the email in the ID token or only
//! in UserInfo; a wrong `state`, also followed by the real callback; a token signed with another
//! key, or naming a key the provider does not publish (the keys fetched again at most once a
//! minute); a UserInfo answer about someone else; a wrong or missing `iss`; a person Docket
//! does not know — each refusal audited, none leaving a session; sign-ins and sign-outs audited.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use docket_testkit::TestApp;
// Key 0 is the provider's, key 1 a stranger's.
use docket_testkit::rsa::key;
use docket_web::{OidcOptions, WebOptions};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::browser::Browser;

const CLIENT_ID: &str = "docket-web";
const CLIENT_SECRET: &str = "oidc-client-secret-for-tests";
const PUBLIC_URL: &str = "http://docket.test";

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
    /// The key id ID tokens name (the key set publishes `k1`).
    kid: &'static str,
    /// Whether the provider vouches for the email.
    verified: bool,
    /// Whether the ID token carries the email; UserInfo always does (certified providers
    /// keep it out of the ID token when they issue an access token for UserInfo).
    email_in_id_token: bool,
    /// The subject UserInfo answers with (the ID token's, unless a test says otherwise).
    userinfo_sub: Option<String>,
    /// UserInfo answers with a signed JWT (`application/jwt`) instead of JSON.
    signed_userinfo: bool,
    /// The `iss` the authorization response carries (`None`: none).
    iss: Iss,
    /// Whether discovery says responses carry `iss` (RFC 9207).
    advertise_iss: bool,
    /// The client is registered for client_secret_basic and discovery offers both methods
    /// (as `oidc-provider` does); otherwise only client_secret_post (as Slack does).
    basic: bool,
}

/// The `iss` parameter of the authorization response.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Iss {
    /// The provider's issuer.
    Right,
    /// Another provider's.
    Wrong,
    /// None.
    Missing,
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
    /// Access tokens issued, and the subject each is for.
    access: Mutex<HashMap<String, String>>,
    /// The `Authorization` headers UserInfo was called with.
    userinfo_calls: Mutex<Vec<String>>,
    /// How often the key set was fetched.
    jwks_fetches: Mutex<usize>,
}

async fn discovery(State(fake): State<Arc<Fake>>) -> Response {
    let i = &fake.issuer;
    let login = fake.login.lock().unwrap().clone();
    let methods =
        if login.basic { json!(["client_secret_basic", "client_secret_post"]) } else { json!(["client_secret_post"]) };
    axum::Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": methods,
        "authorization_response_iss_parameter_supported": login.advertise_iss,
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
    let mut back = url::Url::parse(&q["redirect_uri"]).unwrap();
    back.query_pairs_mut().append_pair("code", &code).append_pair("state", &q["state"]);
    let iss = match fake.login.lock().unwrap().iss {
        Iss::Right => Some(fake.issuer.clone()),
        Iss::Wrong => Some("http://127.0.0.1:9/elsewhere".to_owned()),
        Iss::Missing => None,
    };
    if let Some(iss) = iss {
        back.query_pairs_mut().append_pair("iss", &iss);
    }
    Redirect::to(back.as_str()).into_response()
}

/// The client id and secret, from the body or from Basic, whichever the client is registered
/// for (the other is refused, as `oidc-provider` refuses it).
fn client_credentials(basic: bool, headers: &HeaderMap, form: &HashMap<String, String>) -> Option<(String, String)> {
    if !basic {
        let pair = (form.get("client_id")?.clone(), form.get("client_secret")?.clone());
        return headers.get(header::AUTHORIZATION).is_none().then_some(pair);
    }
    if form.contains_key("client_secret") {
        return None;
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(value).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let decode = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().unwrap().1.into_owned();
    Some((decode(id), decode(secret)))
}

async fn token(
    State(fake): State<Arc<Fake>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let refuse = |error: &str| (StatusCode::BAD_REQUEST, axum::Json(json!({ "error": error }))).into_response();
    let login = fake.login.lock().unwrap().clone();
    let credentials = client_credentials(login.basic, &headers, &form);
    if form.get("grant_type").map(String::as_str) != Some("authorization_code")
        || credentials != Some((CLIENT_ID.to_owned(), CLIENT_SECRET.to_owned()))
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
    let now = jiff::Timestamp::now().as_second();
    let mut claims = json!({
        "iss": fake.issuer, "aud": CLIENT_ID, "sub": login.sub, "nonce": issued.nonce, "iat": now, "exp": now + 300,
    });
    if login.email_in_id_token {
        claims["email"] = json!(login.email);
        claims["email_verified"] = json!(login.verified);
    }
    let signer = key(usize::from(login.forge));
    let id_token = signer.sign_rs256(&json!({ "typ": "JWT", "alg": "RS256", "kid": login.kid }), &claims);
    let access_token = format!("at-{}-{}", login.sub, fake.access.lock().unwrap().len());
    fake.access.lock().unwrap().insert(access_token.clone(), login.sub.clone());
    axum::Json(json!({ "access_token": access_token, "token_type": "Bearer", "id_token": id_token })).into_response()
}

async fn userinfo(State(fake): State<Arc<Fake>>, headers: HeaderMap) -> Response {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    fake.userinfo_calls.lock().unwrap().push(authorization.clone());
    let sub = authorization.strip_prefix("Bearer ").and_then(|t| fake.access.lock().unwrap().get(t).cloned());
    let Some(sub) = sub else {
        let challenge = [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")];
        return (StatusCode::UNAUTHORIZED, challenge).into_response();
    };
    let login = fake.login.lock().unwrap().clone();
    if login.signed_userinfo {
        return ([(header::CONTENT_TYPE, "application/jwt")], "eyJhbGciOiJSUzI1NiJ9.e30.c2ln").into_response();
    }
    let sub = login.userinfo_sub.unwrap_or(sub);
    axum::Json(json!({ "sub": sub, "email": login.email, "email_verified": login.verified })).into_response()
}

async fn jwks(State(fake): State<Arc<Fake>>) -> Response {
    *fake.jwks_fetches.lock().unwrap() += 1;
    let public = key(0);
    axum::Json(json!({ "keys": [{
        "kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
        "n": b64(public.n()), "e": b64(public.e()),
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
    let fake = Arc::new(Fake {
        issuer: issuer.clone(),
        login: Mutex::new(login),
        codes: Mutex::new(HashMap::new()),
        access: Mutex::new(HashMap::new()),
        userinfo_calls: Mutex::new(Vec::new()),
        jwks_fetches: Mutex::new(0),
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route("/userinfo", get(userinfo))
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
    Login {
        sub: "idp|alice".to_owned(),
        email: "Alice@Example.com".to_owned(),
        forge: false,
        kid: "k1",
        verified: true,
        email_in_id_token: true,
        userinfo_sub: None,
        signed_userinfo: false,
        iss: Iss::Right,
        advertise_iss: true,
        basic: false,
    }
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
    audited(kit, "web.authentication_failed").await.into_iter().map(|(_, details)| details.to_string()).collect()
}

/// The actor and details of every audit record with `action`.
async fn audited(kit: &TestApp, action: &str) -> Vec<(String, serde_json::Value)> {
    let records = kit.app.audit_records(0, 1000).await.unwrap();
    records.into_iter().filter(|r| r.entry.action == action).map(|r| (r.entry.actor, r.entry.details)).collect()
}

/// The callback path with its `state` replaced by `state` (or left out when `None`).
fn with_state(callback: &str, state: Option<&str>) -> String {
    let (path, query) = callback.split_once('?').unwrap();
    let pairs: Vec<String> = query
        .split('&')
        .filter_map(|pair| match (pair.starts_with("state="), state) {
            (true, Some(state)) => Some(format!("state={state}")),
            (true, None) => None,
            (false, _) => Some(pair.to_owned()),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// Whose name the page header shows.
fn signed_in_as(page: &crate::browser::Page, id: &str, name: &str) -> bool {
    page.body.contains(&format!("title=\"{id}\">{name}</span>"))
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

/// A token naming a key the provider does not publish fetches the key set again at most once a
/// minute (each such callback used to fetch it again), and the keys held keep serving.
#[tokio::test]
async fn an_unknown_key_id_does_not_fetch_the_keys_again_within_a_minute() {
    let (kit, mut browser, fake) = start(Login { kid: "k9", ..alice() }).await;
    for _ in 0..3 {
        let callback = round_trip(&mut browser).await;
        let page = browser.get(&callback).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("ID token is not valid"), "{}", page.body);
    }
    assert!(failures(&kit).await.iter().all(|d| d.contains("does not publish")), "{:?}", failures(&kit).await);
    assert_eq!(*fake.jwks_fetches.lock().unwrap(), 1, "fetched once, when first needed");
    fake.login.lock().unwrap().kid = "k1";
    let callback = round_trip(&mut browser).await;
    assert_eq!(browser.get(&callback).await.status, StatusCode::SEE_OTHER);
    assert!(browser.cookies.contains_key("docket_session"));
    assert_eq!(*fake.jwks_fetches.lock().unwrap(), 1);
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

#[tokio::test]
async fn signs_in_when_the_email_is_only_in_userinfo() {
    let (kit, mut browser, fake) = start(Login { email_in_id_token: false, ..alice() }).await;
    let callback = round_trip(&mut browser).await;
    let back = browser.get(&callback).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(back.location(), "/tickets");
    let page = browser.visit("/tickets").await;
    assert!(signed_in_as(&page, "alice", "Alice Ng"), "{}", page.body);
    let calls = fake.userinfo_calls.lock().unwrap().clone();
    assert_eq!(calls, vec!["Bearer at-idp|alice-0".to_owned()], "UserInfo is asked once, with the access token");
    let signed_in = audited(&kit, "web.signed_in").await;
    assert_eq!(signed_in.len(), 1, "{signed_in:?}");
    assert_eq!(signed_in[0].0, "alice");
    assert_eq!(signed_in[0].1["matched_by"], "email");
    assert_eq!(signed_in[0].1["userinfo"], true);
}

#[tokio::test]
async fn userinfo_is_not_asked_when_the_id_token_has_what_matching_needs() {
    // The email in the ID token.
    let (_kit, mut browser, fake) = start(alice()).await;
    let callback = round_trip(&mut browser).await;
    assert_eq!(browser.get(&callback).await.status, StatusCode::SEE_OTHER);
    assert!(fake.userinfo_calls.lock().unwrap().is_empty());
    // A subject Docket knows, and no email at all.
    let yaml =
        docket_testkit::fixture::DOCKET_YAML.replace("teams: aad-bob,", "teams: aad-bob, oidc_subject: \"idp|4711\",");
    let login = Login { sub: "idp|4711".to_owned(), email_in_id_token: false, ..alice() };
    let (_kit, mut browser, fake) = start_with(login, &yaml).await;
    let callback = round_trip(&mut browser).await;
    assert_eq!(browser.get(&callback).await.status, StatusCode::SEE_OTHER);
    assert!(signed_in_as(&browser.visit("/").await, "bob", "Bob Ruiz"));
    assert!(fake.userinfo_calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_userinfo_answer_about_another_subject_is_refused_and_audited() {
    let login = Login { email_in_id_token: false, userinfo_sub: Some("idp|mallory".to_owned()), ..alice() };
    let (kit, mut browser, fake) = start(login).await;
    let callback = round_trip(&mut browser).await;
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
    assert!(page.body.contains("UserInfo answer is not usable"), "{}", page.body);
    assert!(!browser.cookies.contains_key("docket_session"));
    assert_eq!(fake.userinfo_calls.lock().unwrap().len(), 1);
    let failures = failures(&kit).await;
    assert!(
        failures.iter().any(|d| d.contains("about subject idp|mallory, not the ID token's subject idp|alice")),
        "{failures:?}"
    );
    assert!(audited(&kit, "web.signed_in").await.is_empty());
}

#[tokio::test]
async fn a_signed_userinfo_answer_is_refused_with_the_reason() {
    let (kit, mut browser, _fake) = start(Login { email_in_id_token: false, signed_userinfo: true, ..alice() }).await;
    let callback = round_trip(&mut browser).await;
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
    assert!(page.body.contains("application/jwt"), "{}", page.body);
    assert!(!browser.cookies.contains_key("docket_session"));
    assert!(failures(&kit).await.iter().any(|d| d.contains("application/jwt")));
}

#[tokio::test]
async fn a_callback_naming_another_issuer_is_refused_and_audited() {
    let (kit, mut browser, fake) = start(Login { iss: Iss::Wrong, ..alice() }).await;
    let callback = round_trip(&mut browser).await;
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("did not come from the configured provider"), "{}", page.body);
    assert!(!browser.cookies.contains_key("docket_session"));
    assert!(fake.codes.lock().unwrap().len() == 1, "the code is not sent to the token endpoint");
    let failures = failures(&kit).await;
    assert!(failures.iter().any(|d| d.contains("names issuer http://127.0.0.1:9/elsewhere")), "{failures:?}");
}

#[tokio::test]
async fn a_callback_without_iss_is_refused_when_the_provider_always_sends_it() {
    let (kit, mut browser, _fake) = start(Login { iss: Iss::Missing, ..alice() }).await;
    let callback = round_trip(&mut browser).await;
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(!browser.cookies.contains_key("docket_session"));
    assert!(failures(&kit).await.iter().any(|d| d.contains("no `iss` parameter")));
    // A provider that does not say it sends `iss` may leave it out.
    let (_kit, mut browser, _fake) = start(Login { iss: Iss::Missing, advertise_iss: false, ..alice() }).await;
    let callback = round_trip(&mut browser).await;
    assert_eq!(browser.get(&callback).await.status, StatusCode::SEE_OTHER);
    // But one it sends is checked even so.
    let (_kit, mut browser, _fake) = start(Login { iss: Iss::Wrong, advertise_iss: false, ..alice() }).await;
    let callback = round_trip(&mut browser).await;
    assert_eq!(browser.get(&callback).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_forged_callback_does_not_use_up_the_sign_in_in_progress() {
    let (kit, mut browser, _fake) = start(alice()).await;
    let callback = round_trip(&mut browser).await;
    // A callback with another state, then one with none, arrive first (a link someone sent,
    // a page replayed): both refused, both audited.
    for forged in [with_state(&callback, Some("0000")), with_state(&callback, None)] {
        let page = browser.get(&forged).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
        assert!(!browser.cookies.contains_key("docket_session"));
        assert!(browser.cookies.contains_key("docket_login"), "the sign-in in progress is kept");
    }
    let failures = failures(&kit).await;
    assert!(failures.iter().any(|d| d.contains("unknown or reused state")), "{failures:?}");
    assert!(failures.iter().any(|d| d.contains("without a state")), "{failures:?}");
    // The real callback still signs in.
    let back = browser.get(&callback).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(back.location(), "/tickets");
    assert!(signed_in_as(&browser.visit("/tickets").await, "alice", "Alice Ng"));
}

#[tokio::test]
async fn the_client_secret_goes_with_basic_when_the_provider_takes_it() {
    // Registered for client_secret_basic, offering both: the body would be refused.
    let (_kit, mut browser, _fake) = start(Login { basic: true, ..alice() }).await;
    let callback = round_trip(&mut browser).await;
    let back = browser.get(&callback).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
}

#[tokio::test]
async fn sign_ins_and_sign_outs_are_audited_without_secrets() {
    let (kit, mut browser, fake) = start(Login { email_in_id_token: false, ..alice() }).await;
    let callback = round_trip(&mut browser).await;
    assert_eq!(browser.get(&callback).await.status, StatusCode::SEE_OTHER);
    let home = browser.visit("/").await;
    let out = browser.post("/logout", &[("csrf", &home.csrf())]).await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    assert!(!browser.cookies.contains_key("docket_session"));
    let signed_in = audited(&kit, "web.signed_in").await;
    let signed_out = audited(&kit, "web.signed_out").await;
    assert_eq!(signed_in.len(), 1, "{signed_in:?}");
    assert_eq!(signed_out.len(), 1, "{signed_out:?}");
    let (actor, details) = &signed_in[0];
    assert_eq!(actor, "alice");
    assert_eq!(details["method"], "oidc");
    assert_eq!(details["issuer"], json!(fake.issuer));
    assert_eq!(details["subject"], "idp|alice");
    assert_eq!(signed_out[0].0, "alice");
    assert_eq!(signed_out[0].1["method"], "sign out");
    // No token, code or secret in any record.
    let everything: Vec<String> =
        kit.app.audit_records(0, 1000).await.unwrap().iter().map(|r| r.entry.details.to_string()).collect();
    for secret in ["at-idp", "code-0", CLIENT_SECRET, &browser.cookies.get("docket_login").cloned().unwrap_or_default()]
    {
        if !secret.is_empty() {
            assert!(!everything.iter().any(|d| d.contains(secret)), "{secret} in {everything:?}");
        }
    }
}
