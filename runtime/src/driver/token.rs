//! The `epoll_data` the driver hands the kernel: a slot index and a generation.

/// Names one registration: which slab slot, and which tenant of that slot.
///
/// The kernel gives the token back with every event. Because the generation
/// changes each time a slot is freed, an event that was queued for a closed fd
/// cannot reach the registration that later took the same slot or fd number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Token {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl Token {
    /// The token of the runtime's eventfd; no slot has index `u32::MAX`.
    pub(crate) const WAKER: u64 = u64::MAX;

    pub(crate) fn to_u64(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }

    /// The token as trace records show it.
    pub(crate) fn traced(self) -> crate::trace::TraceToken {
        crate::trace::TraceToken {
            slot: self.index,
            generation: self.generation,
        }
    }

    pub(crate) fn from_u64(raw: u64) -> Token {
        Token {
            index: raw as u32,
            generation: (raw >> 32) as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Token;

    #[test]
    fn round_trips_and_never_collides_with_the_waker_token() {
        for (index, generation) in [(0, 0), (1, 0), (0, 1), (u32::MAX - 1, u32::MAX), (7, 9)] {
            let t = Token { index, generation };
            assert_eq!(Token::from_u64(t.to_u64()), t);
            assert_ne!(t.to_u64(), Token::WAKER);
        }
    }
}
