//! Value types: closed vocabularies as enums, identifiers as validated newtypes.
//! Each is parsed once at the edge; deeper code cannot receive an invalid one.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Declares a closed vocabulary with its stable snake_case wire names.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// Parses a wire name; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }

            /// The allowed wire names, for error messages.
            pub fn allowed() -> String {
                [$($wire),+].join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "unknown {} `{}`, expected one of: {}",
                        stringify!($name), s, $name::allowed()
                    ))
                })
            }
        }
    };
}

vocabulary!(
    /// Where an order stands in its lifecycle.
    Status {
        Registered => "registered",
        InReview => "in_review",
        PendingDispatch => "pending_dispatch",
        Dispatched => "dispatched",
        InProgress => "in_progress",
        Replied => "replied",
        Closed => "closed",
        Merged => "merged",
        Cancelled => "cancelled",
    }
);

impl Status {
    /// Open states are all but `closed`, `merged` and `cancelled`.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Merged | Status::Cancelled)
    }
}

vocabulary!(
    /// How the contact reached the hotline.
    Channel {
        Phone => "phone",
        Web => "web",
        App => "app",
        Wechat => "wechat",
        Email => "email",
        Letter => "letter",
        Open311 => "open311",
        Media => "media",
    }
);

vocabulary!(
    /// What the resident wants: 咨询 求助 投诉 举报 建议 表扬.
    RequestType {
        Consultation => "consultation",
        Help => "help",
        Complaint => "complaint",
        Report => "report",
        Suggestion => "suggestion",
        Praise => "praise",
    }
);

vocabulary!(
    /// How fast the order must be handled.
    Urgency {
        Normal => "normal",
        Urgent => "urgent",
        Emergency => "emergency",
    }
);

vocabulary!(
    /// What a user may do (SPEC §1).
    Role {
        Admin => "admin",
        Operator => "operator",
        Reviewer => "reviewer",
        Dispatcher => "dispatcher",
        Handler => "handler",
        UnitAdmin => "unit_admin",
        Callback => "callback",
        Supervisor => "supervisor",
        Leader => "leader",
        System => "system",
    }
);

impl Role {
    /// Roles of the hotline centre, which see every order (and the system itself).
    pub fn is_city_wide(self) -> bool {
        !matches!(self, Role::Handler | Role::UnitAdmin)
    }
}

vocabulary!(
    /// A supervision warning (督办预警): yellow at a fraction of the limit, red at breach.
    WarnLevel {
        Yellow => "yellow",
        Red => "red",
    }
);

vocabulary!(
    /// Where a quality-assurance sample stands.
    QaResult {
        Pending => "pending",
        Passed => "passed",
        Failed => "failed",
    }
);

vocabulary!(
    /// What kind of organisation a unit is.
    UnitKind {
        HotlineCentre => "hotline_centre",
        DispatchCentre => "dispatch_centre",
        Department => "department",
        District => "district",
        Street => "street",
        Company => "company",
    }
);

impl UnitKind {
    /// Only these can be a lead or assisting unit.
    pub fn can_handle(self) -> bool {
        matches!(self, UnitKind::Department | UnitKind::District | UnitKind::Street | UnitKind::Company)
    }
}

vocabulary!(
    /// Level of a node in the jurisdiction tree.
    JurisdictionLevel {
        City => "city",
        District => "district",
        Street => "street",
        Community => "community",
    }
);

vocabulary!(
    /// The resident's verdict at callback (回访).
    Satisfaction {
        Satisfied => "satisfied",
        BasicallySatisfied => "basically_satisfied",
        Unsatisfied => "unsatisfied",
        Unreachable => "unreachable",
    }
);

vocabulary!(
    /// How an order was closed at first contact (直接办结).
    CloseKind {
        Answered => "answered",
        Referred => "referred",
        EmergencyTransferred => "emergency_transferred",
        NotAccepted => "not_accepted",
    }
);

vocabulary!(
    /// What a first-contact close cites (引用): a knowledge-base article read out, the
    /// referral entry the caller was sent to, or the announcement that explains the matter.
    CiteKind {
        Article => "article",
        Referral => "referral",
        Announcement => "announcement",
    }
);

vocabulary!(
    /// Every action of the lifecycle, as named in the HTTP contract.
    Action {
        Register => "register",
        Import => "import",
        Submit => "submit",
        Approve => "approve",
        SendBack => "send_back",
        Close => "close",
        Dispatch => "dispatch",
        Sign => "sign",
        Return => "return",
        Subdispatch => "subdispatch",
        RequestExtension => "request_extension",
        DecideExtension => "decide_extension",
        Reply => "reply",
        Callback => "callback",
        Reopen => "reopen",
        Merge => "merge",
        Cancel => "cancel",
        Urge => "urge",
        Note => "note",
        QaSample => "qa_sample",
        QaPass => "qa_pass",
        QaFail => "qa_fail",
        Correct => "correct",
        AddContact => "add_contact",
    }
);

/// Declares a validated string identifier.
macro_rules! identifier {
    ($(#[$meta:meta])* $name:ident, $check:expr, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps; the error says what was expected.
            pub fn parse(s: &str) -> Result<Self, String> {
                let s = s.trim();
                let check: fn(&str) -> bool = $check;
                if check(s) {
                    Ok($name(s.to_owned()))
                } else {
                    Err(format!("`{}` is not a valid {}", s, $what))
                }
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_'))
}

identifier!(
    /// Code of a unit, e.g. `city-housing`, `d440106`, `s440106001`.
    UnitCode, is_code, "unit code (lowercase letters, digits, '-', '.', '_')"
);
identifier!(
    /// Code of a category node, e.g. `urban.streetlight-out`.
    CategoryCode, is_code, "category code (lowercase letters, digits, '-', '.', '_')"
);
identifier!(
    /// National division code of a jurisdiction node, e.g. `440106001`.
    JurisdictionCode,
    |s| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit()),
    "jurisdiction code (up to 12 digits)"
);
identifier!(
    /// Public id of a work order: local date `YYYYMMDD` then a daily sequence of 5+ digits.
    OrderNumber,
    |s| s.len() >= 13 && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()),
    "order number (13 or more digits)"
);
identifier!(
    /// A telephone number as the resident gave it: digits, optionally a leading `+` and
    /// single `-` separators; 5 to 20 digits.
    PhoneNumber,
    |s| {
        let body = s.strip_prefix('+').unwrap_or(s);
        let digits = body.bytes().filter(u8::is_ascii_digit).count();
        (5..=20).contains(&digits)
            && body.bytes().all(|b| b.is_ascii_digit() || b == b'-')
            && !body.starts_with('-')
            && !body.ends_with('-')
            && !body.contains("--")
    },
    "phone number (5 to 20 digits, optional leading '+' and '-' separators)"
);

impl OrderNumber {
    /// Formats the number of the `seq`-th order registered on local day `yyyymmdd`.
    pub fn format(yyyymmdd: &str, seq: u64) -> OrderNumber {
        OrderNumber(format!("{yyyymmdd}{seq:05}"))
    }
}

impl PhoneNumber {
    /// The digits only, which is how numbers are compared and stored.
    pub fn normalized(&self) -> PhoneNumber {
        let plus = if self.0.starts_with('+') { "+" } else { "" };
        PhoneNumber(format!("{plus}{}", self.0.chars().filter(char::is_ascii_digit).collect::<String>()))
    }

    /// The number with its middle hidden: `138****0000`.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        let n = chars.len();
        let keep_head = if n >= 11 { 3 } else { 2.min(n) };
        let keep_tail = if n >= 8 { 4 } else { 1.min(n.saturating_sub(keep_head)) };
        let mut out = String::with_capacity(n);
        for (i, c) in chars.iter().enumerate() {
            if i < keep_head || i >= n - keep_tail {
                out.push(*c);
            } else {
                out.push('*');
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_round_trip_their_wire_names() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(*s));
        }
        assert_eq!(Urgency::parse("urgentish"), None);
        let err = serde_json::from_str::<Urgency>("\"soon\"").unwrap_err().to_string();
        assert!(err.contains("normal, urgent, emergency"), "{err}");
    }

    #[test]
    fn phone_numbers_are_validated_and_masked() {
        let p = PhoneNumber::parse("13800001234").unwrap();
        assert_eq!(p.masked(), "138****1234");
        assert_eq!(PhoneNumber::parse("020-8888-1234").unwrap().normalized().as_str(), "02088881234");
        assert!(PhoneNumber::parse("12a45").is_err());
        assert!(PhoneNumber::parse("123").is_err());
        assert!(PhoneNumber::parse("").is_err());
    }

    #[test]
    fn order_numbers_sort_by_day_then_sequence() {
        let a = OrderNumber::format("20261124", 7);
        let b = OrderNumber::format("20261124", 123);
        let c = OrderNumber::format("20261125", 1);
        assert_eq!(b.as_str(), "2026112400123");
        assert!(a < b && b < c);
        assert!(OrderNumber::parse("2026112400123").is_ok());
        assert!(OrderNumber::parse("20261124").is_err());
    }
}
