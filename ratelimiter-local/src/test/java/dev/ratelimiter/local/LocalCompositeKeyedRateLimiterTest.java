package dev.ratelimiter.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ratelimiter.Decision;
import dev.ratelimiter.Limit;
import dev.ratelimiter.SlidingWindow;
import dev.ratelimiter.TokenBucket;
import dev.ratelimiter.conformance.FakeClock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The keyed local composite (group limits shared by a group's keys, plus per-key limits), on a fake clock. */
class LocalCompositeKeyedRateLimiterTest {

    private static final long SECOND = 1_000_000_000L;

    private final FakeClock clock = new FakeClock();
    /** 10 per second per tenant, 4 per second per user. */
    private final TokenBucket perTenant = TokenBucket.of(10, 10, Duration.ofSeconds(1));
    private final TokenBucket perUser = TokenBucket.of(4, 4, Duration.ofSeconds(1));

    /** Keys "tenant/user". */
    private LocalCompositeKeyedRateLimiter<String, String> keyed(List<Limit> group, List<Limit> key) {
        return LocalCompositeKeyedRateLimiter.<String, String>builder(k -> k.substring(0, k.indexOf('/')), group, key)
                .ticker(clock).sleeper(clock).build();
    }

    private LocalCompositeKeyedRateLimiter<String, String> tenantsAndUsers() {
        return keyed(List.of(perTenant), List.of(perUser));
    }

    @Test
    void aKeyIsHeldToItsOwnLimitsAndToItsGroups() {
        var c = tenantsAndUsers();
        assertThat(c.tryAcquire("a/1", 4)).isTrue();
        assertThat(c.tryAcquire("a/1")).isFalse(); // its own limit
        assertThat(c.tryAcquire("a/2", 4)).isTrue();
        assertThat(c.tryAcquire("a/3", 2)).isTrue();
        assertThat(c.decide("a/4", 1)).isEqualTo(Decision.denied(1, 0, SECOND / 10, SECOND, 4)); // the tenant's
        assertThat(c.tryAcquire("b/1", 4)).isTrue(); // another tenant shares nothing
    }

    @Test
    void aGroupRefusalLeavesTheKeysPermitsIntact() {
        var c = tenantsAndUsers();
        assertThat(c.tryAcquire("a/1", 4)).isTrue();
        assertThat(c.tryAcquire("a/2", 4)).isTrue();
        // The tenant holds 2: a request of 3 by a/3 is refused by the tenant and must cost a/3 nothing.
        for (int i = 0; i < 5; i++) {
            assertThat(c.tryAcquire("a/3", 3)).isFalse();
        }
        assertThat(c.availablePermits("a/3")).isEqualTo(2);
        c.resetGroup("a");
        assertThat(c.availablePermits("a/3")).isEqualTo(4);
        assertThat(c.tryAcquire("a/3", 4)).isTrue();
    }

    @Test
    void aKeyRefusalConsumesNothingFromTheGroup() {
        var c = tenantsAndUsers();
        assertThat(c.tryAcquire("a/1", 4)).isTrue();
        for (int i = 0; i < 20; i++) {
            assertThat(c.tryAcquire("a/1")).isFalse();
        }
        assertThat(c.tryAcquire("a/2", 4)).isTrue();
        assertThat(c.tryAcquire("a/3", 2)).isTrue(); // 4 + 4 + 2 = the tenant's 10
    }

    @Test
    void decisionsReportTheMostRestrictiveFigures() {
        var c = tenantsAndUsers();
        // After 3: the user holds 1 (reset 750 ms), the tenant 7 (reset 300 ms).
        assertThat(c.decide("a/1", 3)).isEqualTo(Decision.allowed(3, 1, 750_000_000L, 4));
        assertThat(c.decide("a/1", 2)).isEqualTo(Decision.denied(2, 1, 250_000_000L, 750_000_000L, 4));
        assertThat(c.decide("a/1", 5)).isEqualTo(Decision.exceeding(5, 1, 750_000_000L, 4));
    }

    @Test
    void peekDrainResetAndRefund() {
        var c = tenantsAndUsers();
        assertThat(c.peek("a/1", 1)).isEqualTo(Decision.allowed(1, 3, SECOND / 4, 4));
        assertThat(c.size()).isZero(); // a peek creates no key
        assertThat(c.drain("a/1")).isEqualTo(4);
        assertThat(c.drain("a/1")).isZero();
        assertThat(c.availablePermits("a/2")).isEqualTo(4);
        assertThat(c.drain("a/2")).isEqualTo(4);
        assertThat(c.availablePermits("a/3")).isEqualTo(2);
        c.reset("a/1");
        assertThat(c.availablePermits("a/1")).isEqualTo(2); // its own limit full, the tenant's still at 2
        c.refund("a/2", 3);
        assertThat(c.availablePermits("a/2")).isEqualTo(3);
        assertThat(c.availablePermits("a/1")).isEqualTo(4);
        Decision peeked = c.peek("a/2", 2);
        assertThat(c.decide("a/2", 2)).isEqualTo(peeked);
    }

    @Test
    void blockingAcquireWaitsForTheLatestRefusingLimit() throws InterruptedException {
        var c = keyed(List.of(TokenBucket.of(2, 1, Duration.ofSeconds(2))), List.of(perUser));
        assertThat(c.tryAcquire("a/1", 2)).isTrue();
        long start = clock.read();
        assertThat(c.tryAcquire("a/1", 1, Duration.ofSeconds(1))).isFalse();
        assertThat(clock.read()).isEqualTo(start);
        assertThat(c.tryAcquire("a/1", 1, Duration.ofSeconds(2))).isTrue();
        assertThat(clock.read() - start).isEqualTo(2 * SECOND);
    }

    @Test
    void onlyKeyLimitsOrOnlyGroupLimits() {
        var perKeyOnly = keyed(List.of(), List.of(perUser));
        assertThat(perKeyOnly.tryAcquire("a/1", 4)).isTrue();
        assertThat(perKeyOnly.tryAcquire("a/2", 4)).isTrue();
        var perGroupOnly = keyed(List.of(perUser), List.of());
        assertThat(perGroupOnly.tryAcquire("a/1", 4)).isTrue();
        assertThat(perGroupOnly.tryAcquire("a/2", 1)).isFalse();
        assertThat(perGroupOnly.limit()).isEqualTo(perUser);
    }

    @Test
    void fullKeysAreDroppedAndTheBoundIsStrict() {
        var c = LocalCompositeKeyedRateLimiter.<String, String>builder(k -> "g", List.of(perTenant), List.of(perUser))
                .ticker(clock).sleeper(clock).maxKeys(3).build();
        for (int i = 0; i < 3; i++) {
            assertThat(c.tryAcquire("u" + i)).isTrue();
        }
        assertThat(c.size()).isEqualTo(3);
        // Every key is active: a fourth is refused (fail closed), the held ones keep working.
        Decision refused = c.decide("u3", 1);
        assertThat(refused.isAllowed()).isFalse();
        assertThat(refused.retryAfterNanos()).isEqualTo(SECOND);
        assertThat(c.tryAcquire("u0")).isTrue();
        clock.advance(SECOND);
        assertThat(c.tryAcquire("u3")).isTrue(); // room made by dropping a full key
        assertThat(c.size()).isLessThanOrEqualTo(3);
        c.cleanUp();
        assertThat(c.size()).isEqualTo(1); // only u3 is not full
        assertThat(c.availablePermits("u0")).isEqualTo(4);
    }

    @Test
    void badInputIsRefusedNamingIt() {
        var c = tenantsAndUsers();
        assertThatThrownBy(() -> c.tryAcquire(null, 1)).isInstanceOf(NullPointerException.class).hasMessage("key");
        assertThatThrownBy(() -> c.decide("a/1", 0)).hasMessage("permits must be > 0: permits=0");
        assertThatThrownBy(() -> c.refund("a/1", -1)).hasMessage("permits must be > 0: permits=-1");
        assertThatThrownBy(() -> c.resetGroup(null)).isInstanceOf(NullPointerException.class).hasMessage("group");
        var nullGroup = LocalCompositeKeyedRateLimiter.<String, String>builder(k -> null, List.of(perTenant), List.of())
                .ticker(clock).build();
        assertThatThrownBy(() -> nullGroup.tryAcquire("x")).isInstanceOf(NullPointerException.class)
                .hasMessage("groupOf returned null for key x");
        assertThatThrownBy(() -> keyed(List.of(), List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a composite needs at least one limit: groupLimits=[], keyLimits=[]");
        assertThatThrownBy(() -> keyed(List.of(perTenant), List.of(SlidingWindow.log(5, Duration.ofSeconds(1)))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyLimits[0]=SlidingWindow");
        assertThatThrownBy(() -> LocalCompositeKeyedRateLimiter.builder(k -> k, List.of(perTenant), List.of()).maxKeys(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxKeys must be > 0: maxKeys=0");
        assertThatThrownBy(() -> LocalRateLimiters.composite(null, List.of(perTenant), List.of()))
                .isInstanceOf(NullPointerException.class).hasMessage("groupOf");
        assertThatThrownBy(() -> c.reconfigure(perUser)).isInstanceOf(UnsupportedOperationException.class);
    }
}
