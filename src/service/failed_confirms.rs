//! Failed token confirmations (password reset and email verification) per client network, in
//! this instance's memory: past an hourly allowance a network's further failures are refused,
//! and networks whose failures have aged out are forgotten, so the memory follows recent
//! failures only, however many networks have sent one.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::client_network::ClientNetwork;

/// Failed confirmations (reset or verification) one client network may make per hour. A
/// token is 256 random bits, so guessing cannot succeed; counting still makes a network that
/// keeps sending bad tokens visible (a warning) and answers its further failures `429`,
/// while a good token always goes through.
const PER_HOUR: NonZeroU32 = NonZeroU32::new(20).unwrap();

/// The failures counted per network.
pub(super) struct FailedConfirms<C: Clock = DefaultClock> {
    limiter: RateLimiter<
        ClientNetwork,
        DefaultKeyedStateStore<ClientNetwork>,
        C,
        NoOpMiddleware<C::Instant>,
    >,
}

impl FailedConfirms {
    pub(super) fn new() -> FailedConfirms {
        FailedConfirms::with_clock(DefaultClock::default())
    }
}

impl<C: Clock> FailedConfirms<C> {
    fn with_clock(clock: C) -> FailedConfirms<C> {
        FailedConfirms {
            limiter: RateLimiter::dashmap_with_clock(Quota::per_hour(PER_HOUR), clock),
        }
    }

    /// Counts one failure of `network`; `false` once it is past the hourly allowance.
    pub(super) fn count(&self, network: &ClientNetwork) -> bool {
        self.limiter.check_key(network).is_ok()
    }

    /// Forgets the networks whose failures have all aged out (their count is back where a
    /// network that never failed starts).
    pub(super) fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Networks remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv6Addr};
    use std::time::Duration;

    use governor::clock::FakeRelativeClock;

    use super::*;

    /// The `i`-th /64 of 2001:db8::/32.
    fn network(i: u32) -> ClientNetwork {
        let prefix = (0x2001_0db8_u128 << 96) | (u128::from(i) << 64);
        ClientNetwork::of(IpAddr::V6(Ipv6Addr::from(prefix)))
    }

    #[test]
    fn networks_are_forgotten_once_their_failures_age_out() {
        let clock = FakeRelativeClock::default();
        let failures = FailedConfirms::with_clock(clock.clone());
        // One failure each from many networks (a host walking its /48), and one network
        // that used up its allowance.
        for i in 0..10_000 {
            assert!(failures.count(&network(i)));
        }
        let busy = network(u32::MAX);
        for _ in 0..PER_HOUR.get() {
            assert!(failures.count(&busy));
        }
        assert!(!failures.count(&busy), "past the allowance");
        assert_eq!(failures.len(), 10_001);

        clock.advance(Duration::from_secs(10 * 60));
        failures.forget_idle();
        assert_eq!(failures.len(), 1, "only the network still counted is kept");

        clock.advance(Duration::from_secs(3600));
        failures.forget_idle();
        assert_eq!(failures.len(), 0);
        assert!(failures.count(&busy), "a forgotten network starts afresh");
    }
}
