//! A server-sent events parser, fed bytes as they arrive (WHATWG HTML, "event stream
//! interpretation"): `event:`, `data:` (several lines join with `\n`), `id:`, `retry:`,
//! comments, and `\n`, `\r\n` or `\r` line ends, even when a chunk splits one.

use std::time::Duration;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// `message` unless the stream named it.
    pub(crate) name: String,
    pub(crate) data: String,
    /// The last event id the stream set, as it stood when this event was dispatched.
    pub(crate) id: Option<String>,
}

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub(crate) struct Parser {
    /// Bytes of a line not yet ended.
    line: Vec<u8>,
    /// The previous chunk ended with `\r`, so a `\n` first in the next one ends nothing.
    after_cr: bool,
    name: String,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    retry: Option<Duration>,
}

impl Parser {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The reconnection delay the stream asked for with `retry:`, if it did.
    pub(crate) fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// Feeds `chunk`, returning the events it completed.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        for &byte in chunk {
            let after_cr = std::mem::replace(&mut self.after_cr, false);
            match byte {
                b'\n' if after_cr => {}
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(event) = self.line_ended(&String::from_utf8_lossy(&line)) {
                        events.push(event);
                    }
                }
                _ => self.line.push(byte),
            }
        }
        events
    }

    fn line_ended(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.name),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry = value.parse().ok().map(Duration::from_millis);
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<Event> {
        let name = std::mem::take(&mut self.name);
        let data = std::mem::take(&mut self.data);
        if !std::mem::replace(&mut self.has_data, false) {
            return None;
        }
        let name = if name.is_empty() { "message".to_owned() } else { name };
        Some(Event { name, data, id: self.last_id.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, data: &str, id: Option<&str>) -> Event {
        Event { name: name.to_owned(), data: data.to_owned(), id: id.map(str::to_owned) }
    }

    #[test]
    fn events_with_names_ids_and_multi_line_data() {
        let mut parser = Parser::new();
        let events = parser.feed(b"event: ticket\ndata: {\"a\":\ndata: 1}\n\nevent:log\nid: 7\ndata:x\n\n");
        assert_eq!(events, vec![event("ticket", "{\"a\":\n1}", None), event("log", "x", Some("7"))]);
    }

    #[test]
    fn comments_are_ignored_and_an_event_without_data_is_not_dispatched() {
        let mut parser = Parser::new();
        assert_eq!(parser.feed(b": keep-alive\n\n:\n\nevent: nothing\n\n"), vec![]);
        assert_eq!(parser.feed(b"data\n\n"), vec![event("message", "", None)]);
    }

    #[test]
    fn the_last_id_carries_over_to_later_events() {
        let mut parser = Parser::new();
        let events = parser.feed(b"id: 3\ndata: a\n\ndata: b\n\nid\ndata: c\n\n");
        assert_eq!(
            events,
            vec![event("message", "a", Some("3")), event("message", "b", Some("3")), event("message", "c", Some(""))]
        );
    }

    #[test]
    fn an_id_with_nul_is_ignored() {
        let mut parser = Parser::new();
        assert_eq!(parser.feed(b"id: 2\n\nid: a\0b\ndata: x\n\n"), vec![event("message", "x", Some("2"))]);
    }

    #[test]
    fn retry_takes_only_digits() {
        let mut parser = Parser::new();
        parser.feed(b"retry: 2500\n\n");
        assert_eq!(parser.retry(), Some(Duration::from_millis(2500)));
        parser.feed(b"retry: soon\nretry: 1.5\n\n");
        assert_eq!(parser.retry(), Some(Duration::from_millis(2500)));
    }

    #[test]
    fn any_line_end_and_any_chunking() {
        let stream = b"event: log\r\nid: 1\rdata: caf\xc3\xa9\r\n\r\nevent: end\ndata: {}\n\n";
        let whole = Parser::new().feed(stream);
        assert_eq!(whole, vec![event("log", "café", Some("1")), event("end", "{}", Some("1"))]);
        for size in 1..stream.len() {
            let mut parser = Parser::new();
            let pieces: Vec<Event> = stream.chunks(size).flat_map(|c| parser.feed(c)).collect();
            assert_eq!(pieces, whole, "chunks of {size}");
        }
    }

    #[test]
    fn a_value_keeps_all_but_one_leading_space_and_colons_after_the_first() {
        let mut parser = Parser::new();
        assert_eq!(parser.feed(b"data:  a: b\n\n"), vec![event("message", " a: b", None)]);
    }

    #[test]
    fn an_unfinished_event_is_not_dispatched() {
        let mut parser = Parser::new();
        assert_eq!(parser.feed(b"event: end\ndata: {}\n"), vec![]);
        assert_eq!(parser.feed(b"\n"), vec![event("end", "{}", None)]);
    }
}
