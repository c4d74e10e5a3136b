//! Parsing `\\MACHINE\Object(Parent/Instance#N)\Counter` header cells into [`CounterPath`],
//! tolerant of a missing machine, lower case, and commas or parentheses inside instance names.

use super::log::CounterPath;
use super::names;

impl CounterPath {
    /// Parses one header cell. Instance names may hold `(`, `)` and `,`, so the instance runs
    /// from the first `(` after the object name to the last `)\` before the counter.
    pub fn parse(raw: &str) -> Result<CounterPath, String> {
        let text = raw.trim();
        let (machine, rest) = if let Some(after) = text.strip_prefix("\\\\") {
            match after.find('\\') {
                Some(end) if end > 0 => (Some(after[..end].to_string()), &after[end + 1..]),
                _ => return Err(format!("'{raw}' has a machine name but no object")),
            }
        } else {
            (None, text.strip_prefix('\\').unwrap_or(text))
        };

        let object_end = rest
            .find(['(', '\\'])
            .ok_or_else(|| format!("'{raw}' is not a counter path (no '\\' before the counter)"))?;
        let original_object = rest[..object_end].trim().to_string();
        if original_object.is_empty() {
            return Err(format!("'{raw}' has an empty object name"));
        }

        let (instance_part, original_counter) = if rest[object_end..].starts_with('(') {
            let close = rest
                .rfind(")\\")
                .filter(|&c| c > object_end)
                .ok_or_else(|| format!("'{raw}' has an unclosed instance '('"))?;
            (Some(&rest[object_end + 1..close]), &rest[close + 2..])
        } else {
            (None, &rest[object_end + 1..])
        };
        if original_counter.trim().is_empty() {
            return Err(format!("'{raw}' has no counter name"));
        }

        let (parent, instance, index) = match instance_part {
            None => (None, None, None),
            Some(part) => {
                let (parent, name) = match part.split_once('/') {
                    Some((p, n)) => (Some(p.to_string()), n),
                    None => (None, part),
                };
                let (name, index) = split_index(name);
                (parent, Some(name.to_string()), index)
            }
        };

        let object = names::canonical_object(&original_object)
            .map(str::to_string)
            .unwrap_or_else(|| original_object.clone());
        let counter = names::canonical_counter(&object, original_counter)
            .map(str::to_string)
            .unwrap_or_else(|| original_counter.to_string());

        Ok(CounterPath {
            machine,
            object,
            parent,
            instance,
            index,
            counter,
            original_object,
            original_counter: original_counter.to_string(),
        })
    }

    /// Whether the analysis needs this column (the `Process` and `Process V2` memory, identity
    /// and load counters, the `Memory` headroom counters, and the machine's load:
    /// `Processor(_Total)\% Processor Time`, `System\Context Switches/sec`).
    pub fn is_needed_by_analysis(&self) -> bool {
        match self.object.as_str() {
            "Process" | "Process V2" => names::PROCESS_COUNTERS.contains(&self.counter.as_str()),
            "Memory" => names::MEMORY_COUNTERS.contains(&self.counter.as_str()),
            // The machine's load, evidence for growth that follows the workload.
            "Processor" => {
                self.counter == "% Processor Time"
                    && self
                        .instance
                        .as_deref()
                        .is_some_and(|i| i.eq_ignore_ascii_case("_Total"))
            }
            "System" => self.counter == "Context Switches/sec",
            _ => false,
        }
    }

    /// Whether `other` is a counter of the same object instance on the same machine (names
    /// compared without case, as Windows does).
    pub fn same_instance(&self, other: &CounterPath) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (None, None) => true,
            _ => false,
        };
        same(&self.machine, &other.machine)
            && self.object.eq_ignore_ascii_case(&other.object)
            && same(&self.instance, &other.instance)
            && self.index == other.index
    }

    /// Whether this is a column of one of the process counter sets (`Process`, `Process V2`).
    pub fn is_process(&self) -> bool {
        self.object == "Process" || self.object == "Process V2"
    }

    /// A `Process V2` instance `name:pid` split at its last `:` into the image name and the
    /// PID; `None` for other objects or an instance without a numeric PID after the `:`.
    pub fn process_v2_pid(&self) -> Option<(&str, u32)> {
        if self.object != "Process V2" {
            return None;
        }
        let (name, pid) = self.instance.as_deref()?.rsplit_once(':')?;
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some((name, pid.parse().ok()?))
    }

    /// The process image name: the instance without `#N`, or without `:pid` for `Process V2`.
    pub fn process_name(&self) -> Option<&str> {
        match self.process_v2_pid() {
            Some((name, _)) => Some(name),
            None => self.instance.as_deref(),
        }
    }

    /// A counter of one real process (`Process` or `Process V2`, not `_Total` or `Idle`).
    pub fn is_real_process(&self) -> bool {
        self.is_process()
            && self.process_name().is_some_and(|name| {
                !name.eq_ignore_ascii_case("_Total") && !name.eq_ignore_ascii_case("Idle")
            })
    }

    /// The path rebuilt in canonical English (`\\M\Process(svchost#1)\Handle Count`).
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        if let Some(m) = &self.machine {
            out.push_str("\\\\");
            out.push_str(m);
        }
        out.push('\\');
        out.push_str(&self.object);
        if let Some(inst) = self.instance_label() {
            out.push('(');
            if let Some(p) = &self.parent {
                out.push_str(p);
                out.push('/');
            }
            out.push_str(&inst);
            out.push(')');
        }
        out.push('\\');
        out.push_str(&self.counter);
        out
    }
}

/// `svchost#12` -> (`svchost`, Some(12)); a `#` not followed only by digits stays in the name.
fn split_index(name: &str) -> (&str, Option<u32>) {
    if let Some(pos) = name.rfind('#') {
        let digits = &name[pos + 1..];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = digits.parse() {
                return (&name[..pos], Some(n));
            }
        }
    }
    (name, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_path_with_index() {
        let p = CounterPath::parse(r"\\SRV01\Process(svchost#3)\Private Bytes").unwrap();
        assert_eq!(p.machine.as_deref(), Some("SRV01"));
        assert_eq!(p.object, "Process");
        assert_eq!(p.instance.as_deref(), Some("svchost"));
        assert_eq!(p.index, Some(3));
        assert_eq!(p.counter, "Private Bytes");
        assert!(p.is_needed_by_analysis());
    }

    #[test]
    fn same_instance_ignores_case_and_counter_but_not_index_or_machine() {
        let p = |raw: &str| CounterPath::parse(raw).unwrap();
        let a = p(r"\\SRV01\Process(svchost#3)\Private Bytes");
        assert!(a.same_instance(&p(r"\\srv01\process(SVCHOST#3)\Handle Count")));
        assert!(!a.same_instance(&p(r"\\SRV01\Process(svchost#2)\Handle Count")));
        assert!(!a.same_instance(&p(r"\\SRV02\Process(svchost#3)\Handle Count")));
        assert!(!a.same_instance(&p(r"\\SRV01\Thread(svchost#3)\Handle Count")));
    }

    #[test]
    fn instance_with_parens_commas_and_parent() {
        let p = CounterPath::parse(r"\Thread(app (x86), v2/7#1)\% Processor Time").unwrap();
        assert_eq!(p.machine, None);
        assert_eq!(p.parent.as_deref(), Some("app (x86), v2"));
        assert_eq!(p.instance.as_deref(), Some("7"));
        assert_eq!(p.index, Some(1));
        let q = CounterPath::parse(r"\\m\Process(a(b)\c)\Handle Count").unwrap();
        assert_eq!(q.instance.as_deref(), Some(r"a(b)\c"));
        assert_eq!(q.counter, "Handle Count");
    }

    #[test]
    fn lower_case_and_localized() {
        let p = CounterPath::parse(r"\\charlieparker\memory\% committed bytes in use").unwrap();
        assert_eq!(p.object, "Memory");
        assert_eq!(p.original_object, "memory");
        assert_eq!(p.counter, "% committed bytes in use");
        let g = CounterPath::parse(r"\\PC\Prozess(explorer)\Handleanzahl").unwrap();
        assert_eq!(
            (g.object.as_str(), g.counter.as_str()),
            ("Process", "Handle Count")
        );
        assert_eq!(g.original_counter, "Handleanzahl");
        assert_eq!(g.canonical(), r"\\PC\Process(explorer)\Handle Count");
    }

    #[test]
    fn process_v2_instance_is_name_and_pid() {
        let p = CounterPath::parse(r"\\W11\Process V2(chrome:1234)\Private Bytes").unwrap();
        assert_eq!(p.object, "Process V2");
        assert!(p.is_needed_by_analysis() && p.is_process());
        assert_eq!(p.process_v2_pid(), Some(("chrome", 1234)));
        assert_eq!(p.process_name(), Some("chrome"));
        let id = CounterPath::parse(r"\\W11\process v2(a:b:7)\process id").unwrap();
        assert_eq!(
            (id.object.as_str(), id.counter.as_str()),
            ("Process V2", "ID Process")
        );
        assert_eq!(id.original_counter, "process id");
        assert_eq!(id.process_v2_pid(), Some(("a:b", 7)));
        assert!(id.is_needed_by_analysis());
        let odd = CounterPath::parse(r"\\W11\Process V2(chrome:x)\Handle Count").unwrap();
        assert_eq!(odd.process_v2_pid(), None);
        assert_eq!(odd.process_name(), Some("chrome:x"));
        let classic = CounterPath::parse(r"\\W11\Process(a:1)\Handle Count").unwrap();
        assert_eq!(classic.process_v2_pid(), None);
        assert_eq!(classic.process_name(), Some("a:1"));
    }

    #[test]
    fn malformed_paths_are_errors() {
        assert!(CounterPath::parse("Time").is_err());
        assert!(CounterPath::parse(r"\\M\Process(x\Handle Count").is_err());
        assert!(CounterPath::parse(r"\\M\Memory\").is_err());
    }
}
