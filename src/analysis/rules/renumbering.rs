//! Rule: `#N` renumbering. A label that passed between processes with no `ID Process` column to
//! split it by cannot carry a leak verdict: `leak` becomes `suspect` and the reason says to log
//! `ID Process`. With PIDs the label was split by them, and the reason says so.

use super::super::lifetime::Lifetimes;
use super::super::{Reason, Verdict};
use super::Decision;

pub(crate) fn apply(d: &mut Decision, split: &Lifetimes) {
    if split.renumbered && split.pids.is_empty() && d.verdict == Verdict::Leak {
        d.verdict = Verdict::Suspect;
        d.confidence = 0.5;
        d.reasons.push(Reason::new("renumbering", "the instance label moves between processes (#N renumbering): log ID Process to be sure"));
    } else if split.renumbered {
        d.reasons.push(Reason::new(
            "renumbering",
            "#N renumbering: the label passed between processes (split by ID Process)",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leak() -> Decision {
        Decision {
            verdict: Verdict::Leak,
            shape: crate::vocab::Shape::Linear,
            confidence: 0.9,
            reasons: Vec::new(),
            decisive: None,
            current: None,
            q_value: None,
            p_value: None,
            floors_rate: None,
        }
    }

    #[test]
    fn a_moving_label_without_pids_lowers_a_leak() {
        let mut split = Lifetimes {
            renumbered: true,
            ..Lifetimes::default()
        };
        let mut d = leak();
        apply(&mut d, &split);
        assert_eq!((d.verdict, d.confidence), (Verdict::Suspect, 0.5));
        split.pids = vec![4, 8];
        let mut d = leak();
        apply(&mut d, &split);
        assert_eq!(d.verdict, Verdict::Leak);
        assert!(d.reasons[0].contains("split by ID Process"));
    }
}
