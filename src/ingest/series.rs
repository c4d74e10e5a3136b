//! A column's values kept compact: perfmon counters are mostly whole numbers (bytes in pages,
//! handle and thread counts) that move by small steps, so each run of values is stored as
//! varint-coded differences in units of the largest power of two dividing them. Lossless (a `NaN` of any payload
//! comes back as `f64::NAN`); a run with a fraction or an infinity is stored as raw `f64`.
//! Readers decode one series at a time, so a log of thousands of columns stays a fraction of its
//! file size in memory.

/// Whole numbers are coded exactly up to 2^53 (every integer an `f64` holds without a gap).
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;
/// Values per frame when a whole slice is encoded at once (pieces of a read bring their own).
const FRAME_LEN: usize = 4096;

/// Mode byte of a frame of raw `f64`; any other is the shift of a frame of steps (0..=63).
const RAW: u8 = 0xff;

/// Encoded values: a sequence of frames, each `n`, a mode byte, then either `n` little-endian
/// `f64` or (the mode byte being a shift) the first value >> shift and `n` codes: 0 for no
/// value, else zigzag(step >> shift) + 1.
#[derive(Debug, Clone, Default)]
pub struct Series {
    len: usize,
    bytes: Vec<u8>,
}

impl Series {
    pub fn new() -> Self {
        Self::default()
    }

    /// Encode `values` (in frames of a few thousand).
    pub fn from_values(values: &[f64]) -> Self {
        let mut s = Self::new();
        for frame in values.chunks(FRAME_LEN) {
            s.push_frame(frame);
        }
        s
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the encoded values take.
    pub fn encoded_len(&self) -> usize {
        self.bytes.len()
    }

    /// Make room for `additional` more encoded bytes without growing by doubling.
    pub fn reserve_bytes(&mut self, additional: usize) {
        self.bytes.reserve_exact(additional);
    }

    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }

    /// Append `values` as one frame.
    pub fn push_frame(&mut self, values: &[f64]) {
        self.len += values.len();
        encode_frame(&mut self.bytes, values);
    }

    /// Append `n` values already encoded as frames by [`encode_frame`].
    pub fn append_encoded(&mut self, frames: &[u8], n: usize) {
        self.len += n;
        // Past a reservation, grow by an eighth rather than doubling: a reserved column is
        // short by little, and thousands of columns doubled would double the memory.
        let spare = self.bytes.capacity() - self.bytes.len();
        if spare < frames.len() && !self.bytes.is_empty() {
            self.bytes
                .reserve_exact(frames.len().max(self.bytes.len() / 8));
        }
        self.bytes.extend_from_slice(frames);
    }

    /// Append another series' values after these.
    pub fn append(&mut self, other: &Series) {
        self.len += other.len;
        self.bytes.extend_from_slice(&other.bytes);
    }

    /// Every value, in order.
    pub fn to_vec(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.len);
        self.decode_into(&mut out);
        out
    }

    /// Decode every value onto the end of `out`.
    pub fn decode_into(&self, out: &mut Vec<f64>) {
        out.reserve(self.len);
        let bytes = &self.bytes;
        let mut pos = 0;
        while pos < bytes.len() {
            let n = get_varint(bytes, &mut pos) as usize;
            let mode = bytes[pos];
            pos += 1;
            if mode == RAW {
                let raw = &bytes[pos..pos + 8 * n];
                // `extend` from an iterator of known length writes in place: no check per value.
                out.extend(raw.chunks_exact(8).map(|chunk| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(chunk);
                    f64::from_le_bytes(b)
                }));
                pos += 8 * n;
            } else {
                let shift = u32::from(mode);
                let mut previous = unzigzag(get_varint(bytes, &mut pos)) << shift;
                let mut left = n;
                while left > 0 {
                    // Eight one-byte codes (a counter that barely moves) from one load: no
                    // wait on each code's length before the next can be read.
                    if let Some(eight) = bytes.get(pos..pos + 8).filter(|_| left >= 8) {
                        let mut word = [0u8; 8];
                        word.copy_from_slice(eight);
                        if u64::from_le_bytes(word) & 0x8080_8080_8080_8080 == 0 {
                            out.extend(
                                word.map(|code| step_value(code.into(), &mut previous, shift)),
                            );
                            pos += 8;
                            left -= 8;
                            continue;
                        }
                    }
                    // Most other codes are one or two bytes: take either by arithmetic,
                    // without a branch to mispredict when they mix; the loop for wider ones.
                    let code = match bytes.get(pos..pos + 2) {
                        Some(&[low, high]) if low & high < 0x80 => {
                            let two = u64::from(low >> 7);
                            pos += 1 + two as usize;
                            u64::from(low & 0x7f) | ((u64::from(high) * two) << 7)
                        }
                        _ => get_varint(bytes, &mut pos),
                    };
                    out.push(step_value(code, &mut previous, shift));
                    left -= 1;
                }
            }
        }
    }

    /// The last value that is a number.
    pub fn last_finite(&self) -> Option<f64> {
        self.to_vec().into_iter().rev().find(|v| v.is_finite())
    }

    /// The largest value that is a number.
    pub fn max_finite(&self) -> Option<f64> {
        self.to_vec()
            .into_iter()
            .filter(|v| v.is_finite())
            .reduce(f64::max)
    }
}

/// Encode `values` as one frame onto `out` (nothing for no values).
pub fn encode_frame(out: &mut Vec<u8>, values: &[f64]) {
    if values.is_empty() {
        return;
    }
    put_varint(out, values.len() as u64);
    CODES.with_borrow_mut(|codes| {
        match whole_steps(values, codes) {
            Some(steps) => put_steps(out, &steps, codes),
            None => {
                out.reserve(8 * values.len() + 1);
                out.push(RAW);
                for v in values {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        // A long frame's scratch is not kept for the rest of the thread's life.
        if codes.capacity() > KEPT_CODES {
            *codes = Vec::new();
        }
    });
}

thread_local! {
    /// Each value's code before the shift, from the pass that finds the shift: the pass that
    /// writes then needs no float.
    static CODES: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Codes of scratch kept between frames (far more than a piece of a read brings).
const KEPT_CODES: usize = 1 << 16;

/// The mode byte, the first value and the shifted `codes` of a frame of whole steps.
fn put_steps(out: &mut Vec<u8>, steps: &WholeSteps, codes: &[u64]) {
    let shift = steps.shift;
    out.push(shift as u8);
    put_varint(out, zigzag(steps.first >> shift));
    // No code is wider than the widest step's (zigzag at most doubles a magnitude).
    let widest = 2 * (steps.between >> shift) + 1;
    let width = varint_len(widest);
    // Codes are written into a zeroed stretch sized for the widest, a slice at a time so
    // that the stretch (and the capacity it may force) stays small; then cut to what was used.
    for slice in codes.chunks(ENCODE_SLICE) {
        let start = out.len();
        // One byte spare: the two-byte writer stores a second byte even after a one-byte code.
        out.resize(start + width * slice.len() + 1, 0);
        let buf = &mut out[start..];
        let mut pos = 0;
        if widest < 0x80 {
            // Every code one byte: a plain copy the compiler can run several values at a time.
            for (byte, &unshifted) in buf.iter_mut().zip(slice) {
                *byte = shifted(unshifted, shift) as u8;
            }
            pos = slice.len();
        } else if widest < 1 << 14 {
            // Pages move by small steps: every code takes one or two bytes, and choosing by
            // arithmetic rather than a branch spares a mispredicted jump per mixed value.
            for &unshifted in slice {
                let code = shifted(unshifted, shift);
                let two = u16::from(code >= 0x80);
                // Both bytes in one store (the second is overwritten after a one-byte code).
                let pair = (code as u16 & 0x7f) | (two << 7) | ((code as u16 >> 7) << 8);
                buf[pos..pos + 2].copy_from_slice(&pair.to_le_bytes());
                pos += 1 + usize::from(two);
            }
        } else {
            for &unshifted in slice {
                let mut code = shifted(unshifted, shift);
                while code >= 0x80 {
                    buf[pos] = (code as u8) | 0x80;
                    pos += 1;
                    code >>= 7;
                }
                buf[pos] = code as u8;
                pos += 1;
            }
        }
        out.truncate(start + pos);
    }
}

/// A code of the format from one of the unshifted step: a step divisible by `1 << shift`
/// zigzags to a number divisible by it too, so shifting the zigzag is zigzagging the shift.
#[inline(always)]
fn shifted(unshifted: u64, shift: u32) -> u64 {
    if unshifted == 0 {
        0
    } else {
        ((unshifted - 1) >> shift) + 1
    }
}

/// Values coded per stretch of output reserved at once by [`encode_frame`].
const ENCODE_SLICE: usize = 256;

/// The value a code of a frame of steps stands for, after `previous` (which it moves).
#[inline(always)]
fn step_value(code: u64, previous: &mut i64, shift: u32) -> f64 {
    if code == 0 {
        f64::NAN
    } else {
        *previous += unzigzag(code - 1) << shift;
        *previous as f64
    }
}

/// Bytes the varint of `v` takes.
fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

impl From<Vec<f64>> for Series {
    fn from(values: Vec<f64>) -> Self {
        Self::from_values(&values)
    }
}

impl From<&[f64]> for Series {
    fn from(values: &[f64]) -> Self {
        Self::from_values(values)
    }
}

/// A frame's whole numbers: the first, the largest power of two dividing it and every step
/// between whole numbers as a shift (Private Bytes are whole 4 KB pages: 12), and the bits of
/// every step after the first or-ed together (a bound on the widest).
struct WholeSteps {
    first: i64,
    shift: u32,
    between: u64,
}

/// Bits of `-0.0`, the one whole `f64` whose sign a whole `i64` would lose.
const NEGATIVE_ZERO: u64 = 0x8000_0000_0000_0000;

/// `v` cast to a whole number, and whether the cast is exact: within the exact range and not
/// -0.0.
#[inline(always)]
fn cast_whole(v: f64) -> (i64, bool) {
    // A cast, not `fract()`: this runs on every cell of a log. The cast saturates, so a value
    // past the exact range (or an infinity) fails the range test; NaN casts to 0 != NaN.
    // `&` rather than `&&`: three cheap tests beat two branches.
    let whole = v as i64;
    let exact = (whole as f64 == v)
        & (whole.unsigned_abs() <= MAX_EXACT as u64)
        & (v.to_bits() != NEGATIVE_ZERO);
    (whole, exact)
}

/// Added to a value below 2^51 in magnitude, rounds it to a whole number held in the low
/// bits of the sum's mantissa (the sum's exponent is this one's).
const ROUNDER: f64 = 6_755_399_441_055_744.0; // 2^52 + 2^51

/// `v` as a whole number when it is one below 2^51 in magnitude (and not -0.0), found without
/// the cast's round trip to and from an integer register: the sum with [`ROUNDER`] keeps its
/// exponent only for such magnitudes, and gives `v` back only when `v` was whole.
#[inline(always)]
fn cast_small_whole(v: f64) -> Option<i64> {
    let sum = v + ROUNDER;
    let whole = sum.to_bits().wrapping_sub(ROUNDER.to_bits()) as i64;
    let small_whole = (sum - ROUNDER == v)
        & ((sum.to_bits() ^ ROUNDER.to_bits()) >> 52 == 0)
        & (v.to_bits() != NEGATIVE_ZERO);
    small_whole.then_some(whole)
}

/// When every value is NaN or a whole number within the exact range (and not -0.0), what a
/// frame of steps needs (see [`WholeSteps`]), with each value's code before the shift in
/// `codes`: 0 for no value, else zigzag(step) + 1. One pass.
fn whole_steps(values: &[f64], codes: &mut Vec<u64>) -> Option<WholeSteps> {
    codes.clear();
    let Some(start) = values.iter().position(|v| !v.is_nan()) else {
        codes.resize(values.len(), 0);
        return Some(WholeSteps {
            first: 0,
            shift: 0,
            between: 0,
        });
    };
    let (first, exact) = cast_whole(values[start]);
    if !exact {
        return None;
    }
    codes.reserve_exact(values.len());
    codes.resize(start, 0);
    let mut previous = first;
    let mut between = 0u64;
    // In stretches, so that a frame of fractions stops early without a test per value.
    for stretch in values[start..].chunks(64) {
        let mut all_exact = true;
        codes.extend(stretch.iter().map(|&v| {
            let blank = v.is_nan();
            let (whole, exact) = match cast_small_whole(v) {
                Some(whole) => (whole, true),
                None => cast_whole(v),
            };
            all_exact &= exact | blank;
            // A blank keeps the previous value: no step, and no branch to mispredict.
            let whole = if blank { previous } else { whole };
            // Wrapping: only a value that is not a whole number in the exact range (whose
            // frame is then stored raw) can take a step outside the i64 range.
            let step = whole.wrapping_sub(previous);
            between |= step.unsigned_abs();
            previous = whole;
            if blank {
                0
            } else {
                zigzag(step).wrapping_add(1)
            }
        }));
        if !all_exact {
            return None;
        }
    }
    // The first value counts as a step from 0, so that it is stored shifted too.
    let steps = between | first.unsigned_abs();
    let shift = if steps == 0 {
        0
    } else {
        steps.trailing_zeros()
    };
    Some(WholeSteps {
        first,
        shift,
        between,
    })
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The encoder wrote every byte read here, so the buffer cannot end inside a varint.
fn get_varint(bytes: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = bytes[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits())
    }

    #[test]
    fn whole_numbers_round_trip_in_a_few_bytes_each() {
        // Private Bytes in 4 KB pages with blanks, a restart and a big jump.
        let mut values: Vec<f64> = (0..10_000)
            .map(|i| (300_000_000 + 4096 * ((i * 7919) % 97) as i64) as f64)
            .collect();
        values[17] = f64::NAN;
        values[5000] = 4096.0;
        values[9000] = 8.0e15;
        let s = Series::from_values(&values);
        assert_eq!(s.len(), values.len());
        assert!(same(&s.to_vec(), &values));
        // 2 bytes per step of up to 96 pages, not 8 per f64.
        assert!(
            s.encoded_len() < 2 * values.len() + 100,
            "{}",
            s.encoded_len()
        );
    }

    #[test]
    fn fractions_infinities_and_negative_zero_are_kept_exactly() {
        let values = vec![
            14.134,
            f64::INFINITY,
            -0.0,
            0.1 + 0.2,
            f64::NAN,
            -3.0,
            f64::MIN_POSITIVE,
        ];
        let s = Series::from_values(&values);
        assert!(same(&s.to_vec(), &values));
        // Negative whole numbers and values at the exact limit take the delta path.
        let edges = vec![-MAX_EXACT, MAX_EXACT, 0.0, -1.0, f64::NAN, 1.0];
        let e = Series::from_values(&edges);
        assert!(same(&e.to_vec(), &edges));
        assert!(e.encoded_len() < 8 * edges.len());
    }

    #[test]
    fn negative_and_zero_pages_shift_exactly() {
        let values = vec![-8192.0, 0.0, f64::NAN, 4096.0, -1_073_741_824.0, 0.0];
        let s = Series::from_values(&values);
        assert!(same(&s.to_vec(), &values));
        let zeros = Series::from_values(&[0.0; 7]);
        assert_eq!(zeros.to_vec(), vec![0.0; 7]);
        // n, mode and first value, then one byte per value.
        assert_eq!(zeros.encoded_len(), 3 + 7);
    }

    #[test]
    fn frames_append_in_order() {
        let a: Vec<f64> = (0..100).map(f64::from).collect();
        let b = vec![f64::NAN, 2.5, 7.0];
        let all_blank = vec![f64::NAN; 5];
        let mut s = Series::new();
        s.push_frame(&a);
        s.push_frame(&[]);
        let mut tail = Series::from_values(&b);
        tail.push_frame(&all_blank);
        s.append(&tail);
        let expected: Vec<f64> = a.iter().chain(&b).chain(&all_blank).copied().collect();
        assert_eq!(s.len(), expected.len());
        assert!(same(&s.to_vec(), &expected));
        assert_eq!(s.last_finite(), Some(7.0));
        assert_eq!(s.max_finite(), Some(99.0));
        assert!(Series::new().to_vec().is_empty());
    }

    #[test]
    fn zigzag_and_varints_invert() {
        for v in [0i64, 1, -1, 63, -64, 1 << 40, -(1 << 54), i64::MAX >> 1] {
            assert_eq!(unzigzag(zigzag(v)), v);
            let mut buf = Vec::new();
            put_varint(&mut buf, zigzag(v));
            let mut pos = 0;
            assert_eq!(get_varint(&buf, &mut pos), zigzag(v));
            assert_eq!(pos, buf.len());
        }
    }

    /// The straightforward coder the format was defined by: a branch per byte, a push per byte.
    fn reference_frame(out: &mut Vec<u8>, values: &[f64]) {
        if values.is_empty() {
            return;
        }
        put_varint(out, values.len() as u64);
        let mut first = None;
        let mut previous = 0i64;
        let mut steps = 0u64;
        for &v in values.iter().filter(|v| !v.is_nan()) {
            if !(v.abs() <= MAX_EXACT && v.fract() == 0.0) || (v == 0.0 && v.is_sign_negative()) {
                out.push(RAW);
                for v in values {
                    out.extend_from_slice(&v.to_le_bytes());
                }
                return;
            }
            first.get_or_insert(v as i64);
            steps |= (v as i64).abs_diff(previous);
            previous = v as i64;
        }
        let shift = if steps == 0 {
            0
        } else {
            steps.trailing_zeros()
        };
        let first = first.unwrap_or(0);
        out.push(shift as u8);
        put_varint(out, zigzag(first >> shift));
        let mut previous = first;
        for &v in values {
            if v.is_nan() {
                out.push(0);
            } else {
                put_varint(out, zigzag((v as i64 - previous) >> shift) + 1);
                previous = v as i64;
            }
        }
    }

    /// One random value of the kinds perfmon logs hold, around `level`.
    fn random_value(rng: &mut impl rand::Rng, level: &mut i64, unit: i64) -> f64 {
        match rng.random_range(0..100) {
            0..4 => f64::NAN,
            4 => 12.125 + f64::from(rng.random_range(0..1000)),
            5 => [-0.0, f64::INFINITY, f64::NEG_INFINITY, MAX_EXACT + 2.0][rng.random_range(0..4)],
            6 => {
                // A restart or a jump to the edge of the exact range.
                *level = [
                    0,
                    -(1 << 53),
                    1 << 53,
                    rng.random_range(-(1 << 50)..1 << 50),
                ][rng.random_range(0..4)];
                *level as f64
            }
            7..20 => {
                *level += unit * rng.random_range(-100_000..100_000);
                *level = (*level).clamp(-(1 << 53), 1 << 53);
                *level as f64
            }
            _ => {
                *level += unit * rng.random_range(-70..70);
                *level = (*level).clamp(-(1 << 53), 1 << 53);
                *level as f64
            }
        }
    }

    #[test]
    fn short_frames_of_mixed_code_widths_decode_back_to_back() {
        // Frames of 1-12 values whose steps take one, two or three bytes, in one buffer: the
        // decoder's eight-byte reads reach into the next frame and must stop at its own.
        let mut s = Series::new();
        let mut expected = Vec::new();
        let mut level = 1_000_000i64;
        for frame in 0..400usize {
            let values: Vec<f64> = (0..1 + frame % 12)
                .map(|i| {
                    let step = [1i64, -3, 100, -9000, 0, 70_000][(frame * 7 + i * 3) % 6];
                    level += step;
                    if (frame + i) % 29 == 0 {
                        f64::NAN
                    } else {
                        level as f64
                    }
                })
                .collect();
            s.push_frame(&values);
            expected.extend(values);
        }
        assert!(same(&s.to_vec(), &expected));
    }

    #[test]
    fn frames_are_byte_for_byte_those_of_the_reference_coder() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(6);
        for round in 0..3000 {
            let len = match round % 4 {
                0 => rng.random_range(1..8),
                1 => rng.random_range(1..300),
                _ => rng.random_range(200..1200),
            };
            let unit = [1, 4096, 1 << 20, 3][rng.random_range(0..4)];
            let mut level = unit * rng.random_range(0..100_000);
            // Some frames clean (whole steps only), others with rare odd values.
            let clean = round % 3 != 0;
            let values: Vec<f64> = (0..len)
                .map(|_| loop {
                    let v = random_value(&mut rng, &mut level, unit);
                    if !clean || (v.is_finite() && v.fract() == 0.0 && v.to_bits() != NEGATIVE_ZERO)
                    {
                        break v;
                    }
                })
                .collect();
            let (mut fast, mut reference) = (vec![7u8], vec![7u8]);
            encode_frame(&mut fast, &values);
            reference_frame(&mut reference, &values);
            assert_eq!(fast, reference, "round {round}: {values:?}");
            let s = Series::from_values(&values);
            let mut decoded = vec![1.5];
            s.decode_into(&mut decoded);
            assert_eq!(decoded[0], 1.5);
            assert!(same(&decoded[1..], &values), "round {round}");
        }
        // A frame longer than the scratch kept between frames, then a short one after it.
        let long: Vec<f64> = (0..70_000).map(|i| f64::from(i % 300) * 4096.0).collect();
        for values in [&long[..], &long[..5]] {
            let (mut fast, mut reference) = (Vec::new(), Vec::new());
            encode_frame(&mut fast, values);
            reference_frame(&mut reference, values);
            assert_eq!(fast, reference);
            // Runs of one-byte codes, decoded eight at a time, with two-byte ones between.
            assert!(same(&Series::from_values(values).to_vec(), values));
        }
    }

    #[test]
    fn the_rounding_test_agrees_with_the_cast_where_it_answers() {
        let edge = (1i64 << 51) as f64;
        let values = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            1e-300,
            4096.0 * 73.0,
            edge - 1.0,
            -edge,
            -edge + 1.0,
            edge - 0.5,
            -edge - 1.0,
            edge,
            edge + 1.0,
            MAX_EXACT,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for v in values {
            let small = cast_small_whole(v);
            let (whole, exact) = cast_whole(v);
            // Every whole number below 2^51 in magnitude is answered, and as the cast does.
            let in_range = exact && whole.unsigned_abs() < 1 << 51 || v == -edge;
            assert_eq!(small.is_some(), in_range, "{v}");
            if let Some(small) = small {
                assert_eq!(small, whole, "{v}");
            }
        }
    }
}
