//! Queue groups: queues whose names share a prefix up to a delimiter (`billing.invoices` and
//! `billing.reminders` are the group `billing` with the delimiter "."). A group is worked out
//! from the names alone, in memory: it costs no Redis read.

/// The group of the queue `name`: its name up to the first `delimiter`; `None` when the name
/// has no delimiter, starts with it, or the delimiter is empty.
pub fn group_of<'a>(name: &'a str, delimiter: &str) -> Option<&'a str> {
    if delimiter.is_empty() {
        return None;
    }
    match name.find(delimiter) {
        Some(0) | None => None,
        Some(end) => Some(&name[..end]),
    }
}

#[cfg(test)]
mod tests {
    use super::group_of;

    #[test]
    fn a_group_is_the_name_up_to_the_first_delimiter() {
        assert_eq!(group_of("billing.invoices", "."), Some("billing"));
        assert_eq!(group_of("billing.eu.invoices", "."), Some("billing"));
        assert_eq!(group_of("mail", "."), None);
        assert_eq!(group_of(".hidden", "."), None);
        assert_eq!(group_of("a--b", "--"), Some("a"));
        assert_eq!(group_of("billing.invoices", ""), None);
    }
}
