//! The kernel clock's synchronisation state, read with `adjtimex(2)` without changing anything
//! (`modes = 0`). An unsynchronised clock is what makes TLS bootstrap fail with "certificate is not
//! yet valid" during `kubeadm join`.

use crate::facts::node_setup::ClockSync;

/// `STA_UNSYNC` in `timex.status`: the clock is not synchronised (include/uapi/linux/timex.h).
const STA_UNSYNC: i32 = 0x0040;
/// `adjtimex`'s return value when the clock is not synchronised.
const TIME_ERROR: i32 = 5;

/// Reads the clock state; `None` when the call fails (seccomp filters in some containers).
pub fn read_clock() -> Option<ClockSync> {
    // SAFETY: a zeroed timex with modes = 0 asks only for the current state; the kernel fills it.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    tx.modes = 0;
    // SAFETY: `tx` is a valid, exclusively borrowed timex for the duration of the call.
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state < 0 {
        return None;
    }
    Some(clock_from(
        state,
        tx.status,
        tx.maxerror as i64,
        tx.esterror as i64,
    ))
}

/// The pure part: the state, status bits and error bounds as the kernel gave them.
pub fn clock_from(state: i32, status: i32, max_error_us: i64, est_error_us: i64) -> ClockSync {
    ClockSync {
        synchronized: state != TIME_ERROR && status & STA_UNSYNC == 0,
        max_error_us,
        est_error_us,
        state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsync_bit_or_time_error_means_unsynchronised() {
        assert!(clock_from(0, 0x2001, 16000, 100).synchronized);
        assert!(!clock_from(0, STA_UNSYNC, 16000000, 0).synchronized);
        assert!(!clock_from(TIME_ERROR, 0, 16000000, 0).synchronized);
        // The call itself works here (no modes: allowed without privileges).
        assert!(read_clock().is_some());
    }
}
