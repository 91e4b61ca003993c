package dev.ratelimiter.benchmarks;

import java.util.List;

/*
 * Used by one thread: the benchmark thread that fires the decisions.
 */
/**
 * The items a benchmark's decisions go round, each decision on the next one in turn: the keys
 * (or the paths on them) of the many-keys shapes.
 *
 * @param <T> the items
 */
final class Ring<T> {

    private final List<T> items;
    private int next;

    /**
     * @param items at least one
     * @throws IllegalArgumentException if there is none
     */
    Ring(List<T> items) {
        if (items.isEmpty()) {
            throw new IllegalArgumentException("a ring needs at least one item");
        }
        this.items = List.copyOf(items);
    }

    /** @return the next item, the first again after the last */
    T next() {
        T item = items.get(next);
        next = next + 1 == items.size() ? 0 : next + 1;
        return item;
    }

    /** @return the first item */
    T first() {
        return items.get(0);
    }
}
