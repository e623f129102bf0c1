//! Text from outside (bodies, forms, files): which characters it may hold. One rule for
//! every path, so that a NUL or an escape sequence never reaches the store, a page or a
//! CSV export.

/// Whether `c` may appear in text from outside: anything but a control character (C0,
/// DEL, C1), except tab, newline and carriage return (browsers send a textarea's line
/// breaks as CRLF).
pub fn allowed(c: char) -> bool {
    !c.is_control() || matches!(c, '\t' | '\n' | '\r')
}

/// `Err(message)` for the field when `s` holds a character that [`allowed`] refuses.
pub fn check(s: &str) -> Result<(), String> {
    match s.chars().find(|c| !allowed(*c)) {
        Some(c) => Err(format!("must not contain control characters (found U+{:04X})", u32::from(c))),
        None => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_line_breaks_and_tabs_are_not() {
        assert!(check("天河路口\n路灯\t不亮\r\n").is_ok());
        for bad in ["a\0b", "\u{1b}[31m", "x\u{7f}", "\u{85}", "\u{8}"] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check("a\0").unwrap_err(), "must not contain control characters (found U+0000)");
    }
}
