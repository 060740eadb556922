//! `docket --help`: what Docket is, then the commands people run, grouped by what they work on
//! (a server, tickets, the database). clap lists subcommands under one heading, so the list is
//! written here from the subcommands' own one-line help; a test keeps every visible subcommand
//! in exactly one group.

use std::fmt::Write as _;

use clap::builder::StyledStr;

/// Each group's heading and its subcommands, in the order they are shown.
pub(crate) const GROUPS: [(&str, &[&str]); 3] = [
    ("Server", &["demo", "serve", "check", "reload", "slack", "teams"]),
    (
        "Tickets (on a server: --as PERSON in the demo, else --token or DOCKET_TOKEN)",
        &[
            "request",
            "workflows",
            "show",
            "list",
            "waiting",
            "logs",
            "result",
            "approve",
            "reject",
            "request-changes",
            "amend",
            "comment",
            "cancel",
            "retry",
            "mcp",
        ],
    ),
    ("Admin (on the database directly)", &["token", "audit", "bench"]),
];

/// The command line with the grouped help.
pub(crate) fn command(command: clap::Command) -> clap::Command {
    let heading = command.get_styles().get_header().to_owned();
    let width = GROUPS.iter().flat_map(|(_, names)| names.iter()).map(|n| n.len()).max().unwrap_or(0);
    let mut list = String::new();
    for (title, names) in GROUPS {
        let _ = writeln!(list, "{}{title}:{}", heading.render(), heading.render_reset());
        for name in names {
            let about = command
                .find_subcommand(name)
                .and_then(|sub| sub.get_about())
                .map(StyledStr::to_string)
                .unwrap_or_default();
            let _ = writeln!(list, "  {name:<width$}  {}", wrap(&about, width + 4));
        }
        list.push('\n');
    }
    list.push_str("`docket COMMAND --help` says more about a command and its flags.\n");
    let template = format!(
        "{{about-with-newline}}\n{}Usage:{} {{usage}}\n\n{list}\n{}Options:{}\n{{options}}{{after-help}}",
        heading.render(),
        heading.render_reset(),
        heading.render(),
        heading.render_reset()
    );
    command.help_template(template)
}

/// `text` cut into lines of at most [`LINE`] characters, the later lines indented by `indent`.
fn wrap(text: &str, indent: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if line > 0 && indent + line + 1 + len > LINE {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += len;
    }
    out
}

/// The width of the command list.
const LINE: usize = 100;

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;
    use crate::cli::Cli;

    #[test]
    fn every_visible_command_is_in_exactly_one_group() {
        let command = Cli::command();
        let visible: Vec<&str> =
            command.get_subcommands().filter(|s| !s.is_hide_set()).map(clap::Command::get_name).collect();
        let grouped: Vec<&str> = GROUPS.iter().flat_map(|(_, names)| names.iter().copied()).collect();
        for name in &visible {
            assert_eq!(grouped.iter().filter(|g| *g == name).count(), 1, "`{name}` is in one group");
        }
        for name in &grouped {
            assert!(visible.contains(name), "`{name}` is a visible command");
        }
    }
}
