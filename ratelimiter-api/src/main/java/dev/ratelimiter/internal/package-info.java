/**
 * Helpers shared between the ratelimiter modules. <b>Not API</b>: anything here may change or
 * disappear in any release without notice.
 */
package dev.ratelimiter.internal;
