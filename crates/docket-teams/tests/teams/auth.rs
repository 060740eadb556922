//! Tokens Bot Framework would never send are refused — 401 or 403, an audit record, and no
//! change of state — and the ones it sends are accepted, within five minutes of skew.

use std::time::Duration;

use docket_testkit::teams::{APP_ID, FakeBotFramework, SigningKey, claims};
use serde_json::{Value, json};

use crate::support::*;

/// Posts a 1:1 install with `token`; returns the status, and checks that a refusal left an
/// audit record and no trace.
async fn install_with(h: &Harness, token: Option<String>, expect: u16) {
    let audit_before = h.t.app.audit_records(0, 10_000).await.unwrap().len();
    let (status, _) = h.post_with(&personal_install(&h.fake, "alice"), token.as_deref()).await;
    assert_eq!(status, expect);
    let remembered = h.t.app.recall("teams", &format!("conv:{}", chat("alice"))).await.unwrap();
    // A repeat of a failure already recorded this minute is counted, and written when the
    // minute ends; flushing writes it now (as a record with its count).
    h.t.app.flush_rejections().await;
    let audit = h.t.app.audit_records(0, 10_000).await.unwrap();
    if expect == 200 {
        assert!(remembered.is_some());
        assert_eq!(audit.len(), audit_before);
    } else {
        assert_eq!(remembered, None, "a refused request changes nothing");
        assert_eq!(audit.len(), audit_before + 1, "a refused request is audited");
        assert_eq!(audit.last().unwrap().entry.action, "teams.authentication_failed");
        assert!(h.fake.recorded().is_empty());
    }
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

#[tokio::test]
async fn forged_and_misdirected_tokens_are_refused() {
    let h = Harness::start().await;
    let key = h.fake.key();
    let good = claims(APP_ID, &h.fake.service_url());
    let now = jiff::Timestamp::now().as_second();
    let other_material = SigningKey::new(1, "key-1", &["msteams"]);
    let unpublished = SigningKey::new(1, "key-unknown", &["msteams"]);
    let cases: Vec<(&str, Option<String>, u16)> = vec![
        ("no token", None, 401),
        ("wrong issuer", Some(key.sign(&with(good.clone(), "iss", json!("https://sts.windows.net/evil/")))), 401),
        ("wrong audience", Some(key.sign(&with(good.clone(), "aud", json!("another-bot")))), 401),
        ("wrong key for the kid", Some(other_material.sign(&good)), 401),
        ("a key that is not published", Some(unpublished.sign(&good)), 401),
        ("alg none", Some(key.unsigned(&good)), 401),
        ("HS256 keyed with the public key", Some(key.sign_hs256_with_public_key(&good)), 401),
        ("expired beyond the skew", Some(key.sign(&with(good.clone(), "exp", json!(now - 400)))), 401),
        ("not yet valid beyond the skew", Some(key.sign(&with(good.clone(), "nbf", json!(now + 400)))), 401),
        (
            "no expiry",
            Some(key.sign(&{
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("exp");
                c
            })),
            401,
        ),
        (
            "another service URL",
            Some(key.sign(&with(good.clone(), "serviceurl", json!("https://evil.example/amer/")))),
            403,
        ),
        (
            "no serviceurl claim",
            Some(key.sign(&{
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("serviceurl");
                c
            })),
            403,
        ),
        ("garbage", Some("not.a.jwt".to_owned()), 401),
    ];
    for (what, token, status) in cases {
        eprintln!("case: {what}");
        install_with(&h, token, status).await;
    }
    // Within five minutes of skew on either side, the same token is fine.
    let skewed = with(with(good.clone(), "exp", json!(now - 200)), "nbf", json!(now + 200));
    install_with(&h, Some(key.sign(&skewed)), 200).await;
}

#[tokio::test]
async fn a_key_not_endorsed_for_the_channel_is_refused() {
    let fake = FakeBotFramework::start().await;
    let skype_only = SigningKey::new(2, "key-skype", &["skype"]);
    fake.publish(skype_only.clone());
    let h = Harness::with_settings(fake, |_| {}).await;
    let token = skype_only.sign(&claims(APP_ID, &h.fake.service_url()));
    install_with(&h, Some(token), 403).await;
}

#[tokio::test]
async fn keys_are_cached_and_an_unknown_kid_refetches_at_most_as_configured() {
    // Default: an unknown key id within the minute after a fetch does not fetch again.
    let h = Harness::start().await;
    install_with(&h, Some(h.fake.token()), 200).await;
    assert_eq!(h.fake.key_fetches(), 1);
    for _ in 0..3 {
        h.post(&personal_install(&h.fake, "bob")).await;
    }
    assert_eq!(h.fake.key_fetches(), 1, "keys are cached");
    let rotated = SigningKey::new(1, "key-2", &["msteams"]);
    h.fake.publish(rotated.clone());
    let token = rotated.sign(&claims(APP_ID, &h.fake.service_url()));
    assert_eq!(h.post_with(&personal_install(&h.fake, "bob"), Some(&token)).await.0, 401);
    assert_eq!(h.fake.key_fetches(), 1, "no fetch within the minute");

    // With the interval passed, an unknown key id fetches once and the new key is used.
    let fake = FakeBotFramework::start().await;
    let h = Harness::with_settings(fake, |s| s.unknown_key_refresh = Duration::from_millis(50)).await;
    assert_eq!(h.post(&personal_install(&h.fake, "alice")).await.0, 200);
    h.fake.publish(rotated.clone());
    tokio::time::sleep(Duration::from_millis(60)).await;
    let token = rotated.sign(&claims(APP_ID, &h.fake.service_url()));
    assert_eq!(h.post_with(&personal_install(&h.fake, "bob"), Some(&token)).await.0, 200);
    assert_eq!(h.fake.key_fetches(), 2);
}

#[tokio::test]
async fn an_activity_from_another_tenant_is_refused_when_a_tenant_is_configured() {
    let h = Harness::start().await;
    let mut foreign = personal_install(&h.fake, "alice");
    foreign["channelData"]["tenant"]["id"] = json!("another-tenant");
    foreign["conversation"]["tenantId"] = json!("another-tenant");
    let audit_before = h.t.app.audit_records(0, 10_000).await.unwrap().len();
    let (status, _) = h.post(&foreign).await;
    assert_eq!(status, 403);
    assert_eq!(h.t.app.recall("teams", &format!("conv:{}", chat("alice"))).await.unwrap(), None, "nothing kept");
    let audit = h.t.app.audit_records(0, 10_000).await.unwrap();
    assert_eq!(audit.len(), audit_before + 1);
    let record = audit.last().unwrap();
    assert_eq!(record.entry.action, "teams.authentication_failed");
    assert!(record.entry.details.to_string().contains("another-tenant"), "{}", record.entry.details);

    // A multi-tenant bot (no tenant configured) accepts it.
    let fake = FakeBotFramework::start().await;
    let h = Harness::with_settings(fake, |s| s.tenant_id = None).await;
    let mut foreign = personal_install(&h.fake, "alice");
    foreign["channelData"]["tenant"]["id"] = json!("another-tenant");
    assert_eq!(h.post(&foreign).await.0, 200);
}

#[tokio::test]
async fn unreachable_signing_keys_answer_503_so_bot_framework_tries_again() {
    let fake = FakeBotFramework::start().await;
    let h = Harness::with_settings(fake, |s| s.openid_metadata_url = "http://127.0.0.1:9/metadata".to_owned()).await;
    let audit_before = h.t.app.audit_records(0, 10_000).await.unwrap().len();
    let (status, _) = h.post(&personal_install(&h.fake, "alice")).await;
    assert_eq!(status, 503);
    assert_eq!(h.t.app.recall("teams", &format!("conv:{}", chat("alice"))).await.unwrap(), None);
    let audit = h.t.app.audit_records(0, 10_000).await.unwrap();
    assert_eq!(audit.len(), audit_before + 1, "the unchecked request is on record");
}
