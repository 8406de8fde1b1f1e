//! Form-encoded name–value pairs (a query string, a form body), decoded as
//! [`crate::auth::form_decode`] does but into one buffer: an SDK request carries a dozen or more,
//! and a `String` for each name and value was a tenth of a request's cost (issue 6). Both edges
//! read their parameters through it.

/// Pairs in wire order; a repeated name keeps every value (lookups take the first).
#[derive(Debug, Default, Clone)]
pub struct Pairs {
    text: String,
    /// Name and value, as byte ranges of `text`.
    spans: Vec<(Span, Span)>,
}

type Span = (u32, u32);

impl Pairs {
    /// The pairs of each `a=1&b=2` string in turn.
    pub fn decode(sources: &[&str]) -> Pairs {
        let size = sources.iter().map(|s| s.len()).sum();
        let mut pairs = Pairs { text: String::with_capacity(size), spans: Vec::with_capacity(16) };
        for raw in sources {
            pairs.add(raw);
        }
        pairs
    }

    /// Empty segments are skipped; a name alone has an empty value.
    fn add(&mut self, raw: &str) {
        for pair in raw.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = self.push(name);
            let value = self.push(value);
            self.spans.push((name, value));
        }
    }

    fn push(&mut self, component: &str) -> Span {
        let start = self.text.len();
        crate::auth::unescape_into(component, true, &mut self.text);
        // Requests are capped far below 4 GiB.
        (start as u32, self.text.len() as u32)
    }

    fn text(&self, (start, end): Span) -> &str {
        &self.text[start as usize..end as usize]
    }

    /// Every name and value, in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans.iter().map(|(name, value)| (self.text(*name), self.text(*value)))
    }

    /// The first value given for `name`, empty or not.
    pub fn first(&self, name: &str) -> Option<&str> {
        // Lengths first: most names differ in length, and those need no slicing or comparing.
        self.spans.iter().find(|(k, _)| (k.1 - k.0) as usize == name.len() && self.text(*k) == name).map(|(_, v)| self.text(*v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_decode_as_form_decode_does() {
        let raw = "a=1&&b&c=x+y%2B%zz%E4%B8%AD&%41=&=v&d=%FF&e=%&a=2";
        let pairs = Pairs::decode(&[raw, "f=last"]);
        let decoded: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut expected = crate::auth::form_decode(raw);
        expected.push(("f".into(), "last".into()));
        assert_eq!(decoded, expected);
        assert_eq!(pairs.first("c"), Some("x y+%zz中"));
        assert_eq!((pairs.first("a"), pairs.first("b"), pairs.first("zz")), (Some("1"), Some(""), None));
    }
}
