/**
 * Rate limiters shared by many processes through Redis: the algorithms of the local module as
 * Lua scripts, one round trip per decision, through Lettuce.
 */
package dev.ratelimiter.redis;
