-- Exact integer arithmetic for the rate-limit scripts, prepended to those that need it (the GCRA,
-- the counter and the composite); it includes common.lua, which every script starts with.
--
-- Lua numbers are IEEE doubles: integers are exact below 2^53 and sums and differences of such
-- integers stay exact while the result does. Products do not (debt * rate can reach 2^106), so
-- every product is split into base-2^24 limbs: each factor below 2^72 has three limbs, each
-- partial product is below 2^48 and a column sums at most three of them (below 2^50), so every
-- step is exact. The Java side guarantees that every factor is a non-negative integer below 2^53.

--#include common.lua

local LIMB = 16777216 -- 2^24

-- Below this bound every sum of two integers, and every product of two factors whose double
-- product is below it, is exact: the fast paths below use plain arithmetic there and fall back
-- to limbs otherwise. A double product of two integers is below 2^52 only if the true product is
-- (rounding is monotonic and 2^52 is a double), and then it is exact. In the common case (rates
-- and times of everyday limits) a decision thus allocates no limb table at all.
local SMALL = 4503599627370496 -- 2^52

local function limbs(a)
  local a0 = a % LIMB
  local rest = (a - a0) / LIMB
  local a1 = rest % LIMB
  return a0, a1, (rest - a1) / LIMB
end

-- Carries each of six limbs' excess into the next, in place: every limb below 2^24 after.
local function normalize(r)
  for i = 1, 5 do
    local carry = math.floor(r[i] / LIMB)
    r[i] = r[i] - carry * LIMB
    r[i + 1] = r[i + 1] + carry
  end
  return r
end

-- a * b as six normalized base-2^24 limbs, least significant first.
local function product(a, b)
  local a0, a1, a2 = limbs(a)
  local b0, b1, b2 = limbs(b)
  local r = {a0 * b0, a0 * b1 + a1 * b0, a0 * b2 + a1 * b1 + a2 * b0, a1 * b2 + a2 * b1, a2 * b2, 0}
  return normalize(r)
end

-- The sign of x - y for two normalized limb numbers.
local function cmp_limbs(x, y)
  for i = 6, 1, -1 do
    if x[i] ~= y[i] then
      if x[i] < y[i] then return -1 end
      return 1
    end
  end
  return 0
end

-- The sign of a * b - c * d (-1, 0 or 1), exactly.
local function cmp_products(a, b, c, d)
  local p, r = a * b, c * d
  if p < SMALL and r < SMALL then
    if p < r then return -1 elseif p > r then return 1 end
    return 0
  end
  return cmp_limbs(product(a, b), product(c, d))
end

-- floor(a * b / c), exactly, for a result below 2^53 (c > 0). The double quotient is within a
-- few units of the truth; exact comparisons of q * c with a * b correct it.
local function floor_mul_div(a, b, c)
  local p = a * b
  if p < SMALL and c < SMALL then
    -- Exact: q * c and (q + 1) * c stay below p + c < 2^53.
    local q = math.floor(p / c)
    while q > 0 and q * c > p do q = q - 1 end
    while (q + 1) * c <= p do q = q + 1 end
    return q
  end
  local q = math.floor(a * b / c)
  while q > 0 and cmp_products(q, c, a, b) > 0 do q = q - 1 end
  while cmp_products(q + 1, c, a, b) <= 0 do q = q + 1 end
  return q
end

-- ceil(a * b / c), exactly, for a result below 2^53 (c > 0).
local function ceil_mul_div(a, b, c)
  local q = floor_mul_div(a, b, c)
  if cmp_products(q, c, a, b) < 0 then q = q + 1 end
  return q
end

-- a * b + c as six normalized base-2^24 limbs (c below 2^53), for sums of a product and a
-- remainder, such as the exact debt (F - now) * R + q of the GCRA.
local function product_plus(a, b, c)
  local r = product(a, b)
  local c0, c1, c2 = limbs(c)
  r[1], r[2], r[3] = r[1] + c0, r[2] + c1, r[3] + c2
  return normalize(r)
end

-- floor(a * b / c) and a * b - floor(a * b / c) * c, exactly, for a quotient below 2^53 (c > 0,
-- below 2^53). The remainder is below c: its limbs above the third are zero after the borrows.
local function mul_div_mod(a, b, c)
  local q = floor_mul_div(a, b, c)
  local p = a * b
  if p < SMALL and c < SMALL then return q, p - q * c end
  local x, y = product(a, b), product(q, c)
  local borrow = 0
  for i = 1, 3 do
    local d = x[i] - y[i] - borrow
    if d < 0 then
      d = d + LIMB
      borrow = 1
    else
      borrow = 0
    end
    x[i] = d
  end
  return q, x[1] + x[2] * LIMB + x[3] * LIMB * LIMB
end

-- ceil((a * b + c) / d), exactly, for a result below 2^53 (c below 2^53, d > 0).
local function ceil_muladd_div(a, b, c, d)
  local p = a * b
  local x = p + c
  if p < SMALL and c < SMALL and x < SMALL and d < SMALL then
    -- Exact: p + c, q * d and (q + 1) * d all stay below x + d < 2^53.
    local q = math.floor(x / d)
    while q > 0 and q * d > x do q = q - 1 end
    while (q + 1) * d <= x do q = q + 1 end
    if q * d < x then q = q + 1 end
    return q
  end
  local target = product_plus(a, b, c)
  local q = math.floor((a * b + c) / d)
  while q > 0 and cmp_limbs(product(q, d), target) > 0 do q = q - 1 end
  while cmp_limbs(product(q + 1, d), target) <= 0 do q = q + 1 end
  if cmp_limbs(product(q, d), target) < 0 then q = q + 1 end
  return q
end

-- The sign of a * b + c - e * f (-1, 0 or 1), exactly (c below 2^53): the GCRA's comparisons of
-- an exact debt with a capacity.
local function cmp_muladd_product(a, b, c, e, f)
  local p, r = a * b, e * f
  if p < SMALL and c < SMALL and r < SMALL then
    local x = p + c
    if x < r then return -1 elseif x > r then return 1 end
    return 0
  end
  return cmp_limbs(product_plus(a, b, c), product(e, f))
end
