//! The `github` section of `docket.yaml`: the token `github_actions` steps use (from the
//! environment, so it is a secret masked wherever Docket writes), the API's URL (GitHub
//! Enterprise Server: `https://HOST/api/v3`) and how often a followed run is read.
//!
//! ```yaml
//! github: { token: ${GITHUB_TOKEN}, api_url: https://api.github.com, poll: 10s }
//! ```

use docket_config::Secret;
use docket_config::plugin::{Decoded, Fields, Node, Report, Section, SectionContext, duration, secret, url};
use docket_core::Duration;

/// The section's key.
pub const SECTION: &str = "github";
/// GitHub's API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// How often a followed run is read when the section names no `poll`.
pub const DEFAULT_POLL: Duration = Duration::from_secs(10);

/// The runner's settings.
#[derive(Clone, Debug)]
pub struct GithubSettings {
    /// A token allowed `actions: write` on the repositories steps name.
    pub token: Secret,
    /// The API's base URL, without a trailing `/`.
    pub api_url: String,
    /// How often a followed run is read.
    pub poll: Duration,
}

/// The `github` section's reader.
#[derive(Clone, Copy, Debug, Default)]
pub struct GithubSection;

impl Section for GithubSection {
    fn key(&self) -> &'static str {
        SECTION
    }

    fn reloads(&self) -> bool {
        true
    }

    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded {
        let report = cx.report();
        let Some(fields) = Fields::open(node, "github settings", &["token", "api_url", "poll"], report) else {
            return Decoded::invalid();
        };
        let token = fields.req("token", report, secret);
        let api_url =
            fields.opt("api_url", report, |n, r| url(n, &["https://", "http://"], r)).or(DEFAULT_API_URL.to_owned());
        let poll = fields.opt("poll", report, positive).or(DEFAULT_POLL);
        let (Some(token), Some(api_url), Some(poll)) = (token, api_url, poll) else { return Decoded::invalid() };
        cx.secret(&token);
        Decoded::value(GithubSettings { token, api_url: api_url.trim_end_matches('/').to_owned(), poll })
    }
}

fn positive(node: &Node, report: &mut Report) -> Option<Duration> {
    let value = duration(node, report)?;
    if value.as_millis() == 0 {
        report.error(node.pos, "must be longer than 0s");
        return None;
    }
    Some(value)
}
