//! Amounts of money in one currency, with checked arithmetic, rounding and allocation.

use std::cmp::Ordering;
use std::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::currency::Currency;

/// An amount in one currency.
///
/// The amount is an exact [`Decimal`] and may carry more digits than the currency's minor unit while a
/// calculation is under way (a rate times hours); [`Money::round`] brings it back to the minor unit.
/// Stored amounts (invoice totals, milestone amounts) are checked by validation to be rounded.
///
/// Arithmetic is checked: mixing currencies gives [`MoneyError::CurrencyMismatch`] and an amount outside
/// `Decimal`'s range gives [`MoneyError::Overflow`], never a panic.
///
/// **Rounding** is *half away from zero* (`2.345 → 2.35`, `-2.345 → -2.35`), the rule accountants and
/// invoicing systems (Odoo's `HALF-UP` included) apply, rather than banker's rounding.
///
/// In JSON: `{"amount": "1234.50", "currency": "EUR"}`; the amount is a string so that no reader turns it
/// into a binary float.
///
/// ```
/// use odoo_connect_canonical::{Currency, Money};
/// use rust_decimal::Decimal;
///
/// let fee = Money::new(Decimal::new(1000_00, 2), Currency::EUR);
/// let parts = fee.allocate(&[Decimal::ONE, Decimal::ONE, Decimal::ONE])?;
/// let amounts: Vec<String> = parts.iter().map(|m| m.amount.to_string()).collect();
/// assert_eq!(amounts, ["333.34", "333.33", "333.33"]);
///
/// let usd = Money::new(Decimal::ONE, Currency::USD);
/// assert!(fee.checked_add(&usd).is_err());
/// # Ok::<(), odoo_connect_canonical::MoneyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Money {
    /// The amount, possibly negative (a credit).
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
}

/// Why an operation on money failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// Two amounts in different currencies were combined.
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch {
        /// The currency of the left operand.
        left: Currency,
        /// The currency of the right operand.
        right: Currency,
    },
    /// The result does not fit in a `Decimal`.
    #[error("{operation} overflowed")]
    Overflow {
        /// The operation: `add`, `sub`, `mul`, `allocate`, ...
        operation: &'static str,
    },
    /// `allocate` was given no weights.
    #[error("allocation needs at least one weight")]
    NoWeights,
    /// `allocate` was given a negative weight.
    #[error("allocation weight {index} is negative")]
    NegativeWeight {
        /// The position of the weight.
        index: usize,
    },
    /// `allocate` was given weights that add up to zero.
    #[error("allocation weights add up to zero")]
    ZeroWeights,
    /// `allocate` was asked to split an amount finer than the currency's minor unit.
    #[error("{amount} {currency} has more decimals than the currency's minor unit; round it first")]
    NotInMinorUnits {
        /// The amount.
        amount: Decimal,
        /// Its currency.
        currency: Currency,
    },
}

impl Money {
    /// An amount in a currency.
    pub const fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// Zero in a currency.
    pub const fn zero(currency: Currency) -> Money {
        Money {
            amount: Decimal::ZERO,
            currency,
        }
    }

    /// An amount given in minor units: `Money::from_minor(12345, Currency::EUR)` is 123.45 EUR and
    /// `Money::from_minor(12345, Currency::KWD)` is 12.345 KWD.
    pub fn from_minor(units: i64, currency: Currency) -> Money {
        Money {
            amount: Decimal::new(units, currency.minor_units()),
            currency,
        }
    }

    /// Whether the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// Whether the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// Whether the amount is above zero.
    pub fn is_positive(&self) -> bool {
        self.amount.is_sign_positive() && !self.amount.is_zero()
    }

    /// Whether the amount has no more decimals than the currency's minor unit.
    pub fn is_rounded(&self) -> bool {
        self.amount.normalize().scale() <= self.currency.minor_units()
    }

    /// The amount rounded to the currency's minor unit, half away from zero.
    pub fn round(&self) -> Money {
        Money {
            amount: self.amount.round_dp_with_strategy(
                self.currency.minor_units(),
                RoundingStrategy::MidpointAwayFromZero,
            ),
            currency: self.currency,
        }
    }

    /// The amount as people read it: rounded to the currency's minor unit, thousands grouped
    /// with commas, then the code (`20,000.00 EUR`, `-1,234.50 USD`, `0.00 EUR`, `1,500 JPY`).
    ///
    /// ```
    /// use odoo_connect_canonical::{Currency, Money};
    /// use rust_decimal::Decimal;
    /// assert_eq!(Money::new(Decimal::new(20_000, 0), Currency::EUR).formatted(), "20,000.00 EUR");
    /// assert_eq!(Money::new(Decimal::new(-123_450, 2), Currency::USD).formatted(), "-1,234.50 USD");
    /// assert_eq!(Money::zero(Currency::EUR).formatted(), "0.00 EUR");
    /// assert_eq!(Money::new(Decimal::new(12_345, 3), Currency::EUR).formatted(), "12.35 EUR");
    /// ```
    pub fn formatted(&self) -> String {
        let dp = self.currency.minor_units() as usize;
        let rounded = self.round().amount;
        let negative = rounded.is_sign_negative() && !rounded.is_zero();
        // Padded by hand: the largest amounts cannot be rescaled to the minor unit.
        let text = rounded.abs().to_string();
        let (whole, fraction) = text.split_once('.').unwrap_or((text.as_str(), ""));
        let mut out = String::with_capacity(whole.len() + whole.len() / 3 + dp + 6);
        if negative {
            out.push('-');
        }
        for (i, ch) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        if dp > 0 {
            out.push('.');
            out.extend(fraction.chars().take(dp));
            for _ in fraction.len().min(dp)..dp {
                out.push('0');
            }
        }
        out.push(' ');
        out.push_str(self.currency.code());
        out
    }

    /// The same amount with the opposite sign.
    pub fn negate(&self) -> Money {
        Money {
            amount: -self.amount,
            currency: self.currency,
        }
    }

    /// The absolute value.
    pub fn abs(&self) -> Money {
        Money {
            amount: self.amount.abs(),
            currency: self.currency,
        }
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// `self + other`, refusing other currencies and overflow.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow { operation: "add" })?;
        Ok(Money::new(amount, self.currency))
    }

    /// `self - other`, refusing other currencies and overflow.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow { operation: "sub" })?;
        Ok(Money::new(amount, self.currency))
    }

    /// `self × factor`, not rounded (see [`Money::mul_round`]).
    pub fn checked_mul(&self, factor: Decimal) -> Result<Money, MoneyError> {
        let amount = self
            .amount
            .checked_mul(factor)
            .ok_or(MoneyError::Overflow { operation: "mul" })?;
        Ok(Money::new(amount, self.currency))
    }

    /// `self × factor`, rounded to the minor unit half away from zero.
    pub fn mul_round(&self, factor: Decimal) -> Result<Money, MoneyError> {
        Ok(self.checked_mul(factor)?.round())
    }

    /// Compares two amounts of the same currency.
    pub fn checked_cmp(&self, other: &Money) -> Result<Ordering, MoneyError> {
        self.same_currency(other)?;
        Ok(self.amount.cmp(&other.amount))
    }

    /// The smaller of two amounts of the same currency.
    pub fn checked_min(&self, other: &Money) -> Result<Money, MoneyError> {
        Ok(match self.checked_cmp(other)? {
            Ordering::Greater => *other,
            _ => *self,
        })
    }

    /// Adds up amounts that must all be in `currency`; an empty list gives zero.
    pub fn sum<'a, I>(currency: Currency, items: I) -> Result<Money, MoneyError>
    where
        I: IntoIterator<Item = &'a Money>,
    {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }

    /// The amount as a whole number of minor units (cents), if it is rounded.
    pub fn to_minor_units(&self) -> Result<i128, MoneyError> {
        if !self.is_rounded() {
            return Err(MoneyError::NotInMinorUnits {
                amount: self.amount,
                currency: self.currency,
            });
        }
        let mut scaled = self.amount;
        scaled.rescale(self.currency.minor_units());
        if scaled.scale() != self.currency.minor_units() {
            return Err(MoneyError::Overflow {
                operation: "to_minor_units",
            });
        }
        Ok(scaled.mantissa())
    }

    fn from_minor_i128(units: i128, currency: Currency) -> Result<Money, MoneyError> {
        let amount =
            Decimal::try_from_i128_with_scale(units, currency.minor_units()).map_err(|_| {
                MoneyError::Overflow {
                    operation: "allocate",
                }
            })?;
        Ok(Money::new(amount, currency))
    }

    /// Splits the amount into parts proportional to `weights`, to the minor unit, so that the parts
    /// always add up to the amount exactly.
    ///
    /// Each part first gets the floor of its exact share in minor units; the units left over go one by
    /// one to the parts with the largest remainders (ties to the earlier part): the *largest remainder*
    /// method. A negative amount is split as its absolute value and every part negated. A zero weight
    /// gets zero. The amount must already be rounded to the minor unit
    /// ([`MoneyError::NotInMinorUnits`] otherwise), weights must be non-negative and not all zero.
    pub fn allocate(&self, weights: &[Decimal]) -> Result<Vec<Money>, MoneyError> {
        if weights.is_empty() {
            return Err(MoneyError::NoWeights);
        }
        if let Some(index) = weights
            .iter()
            .position(|w| w.is_sign_negative() && !w.is_zero())
        {
            return Err(MoneyError::NegativeWeight { index });
        }
        let total_weight = weights.iter().try_fold(Decimal::ZERO, |acc, w| {
            acc.checked_add(*w).ok_or(MoneyError::Overflow {
                operation: "allocate",
            })
        })?;
        if total_weight.is_zero() {
            return Err(MoneyError::ZeroWeights);
        }
        let units = self.to_minor_units()?;
        let negative = units < 0;
        let total_units = units.unsigned_abs();
        let total_dec = Decimal::try_from_i128_with_scale(
            i128::try_from(total_units).map_err(|_| MoneyError::Overflow {
                operation: "allocate",
            })?,
            0,
        )
        .map_err(|_| MoneyError::Overflow {
            operation: "allocate",
        })?;

        let mut floors: Vec<u128> = Vec::with_capacity(weights.len());
        let mut remainders: Vec<Decimal> = Vec::with_capacity(weights.len());
        let mut given: u128 = 0;
        for w in weights {
            // share = total × (w / Σw); dividing first keeps the product in range.
            let ratio = w.checked_div(total_weight).ok_or(MoneyError::Overflow {
                operation: "allocate",
            })?;
            let share = total_dec.checked_mul(ratio).ok_or(MoneyError::Overflow {
                operation: "allocate",
            })?;
            let floor = share.floor();
            let floor_units = floor.to_u128().ok_or(MoneyError::Overflow {
                operation: "allocate",
            })?;
            // A share computed with rounding error never takes more than the total.
            let floor_units = floor_units.min(total_units - given.min(total_units));
            given += floor_units;
            floors.push(floor_units);
            remainders.push(share - floor);
        }

        let mut left = total_units - given;
        if left > 0 {
            let mut order: Vec<usize> = (0..weights.len())
                .filter(|&i| !weights[i].is_zero())
                .collect();
            order.sort_by(|&a, &b| remainders[b].cmp(&remainders[a]).then(a.cmp(&b)));
            // Normally fewer units are left than parts; the loop also covers shares that lost precision.
            while left > 0 {
                for &i in &order {
                    if left == 0 {
                        break;
                    }
                    floors[i] += 1;
                    left -= 1;
                }
            }
        }

        floors
            .into_iter()
            .map(|u| {
                let signed = i128::try_from(u).map_err(|_| MoneyError::Overflow {
                    operation: "allocate",
                })?;
                Money::from_minor_i128(if negative { -signed } else { signed }, self.currency)
            })
            .collect()
    }

    /// Splits the amount into `parts` equal parts (to the minor unit), the first parts taking the
    /// units left over. `parts` must not be zero.
    pub fn split_evenly(&self, parts: usize) -> Result<Vec<Money>, MoneyError> {
        if parts == 0 {
            return Err(MoneyError::NoWeights);
        }
        self.allocate(&vec![Decimal::ONE; parts])
    }
}

impl fmt::Display for Money {
    /// `1234.50 EUR`: the amount with the currency's decimals when rounded, then the code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dp = self.currency.minor_units();
        if self.amount.scale() < dp {
            let mut shown = self.amount;
            shown.rescale(dp);
            write!(f, "{} {}", shown, self.currency)
        } else {
            write!(f, "{} {}", self.amount, self.currency)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn eur(s: &str) -> Money {
        Money::new(d(s), Currency::EUR)
    }

    #[test]
    fn rounds_half_away_from_zero_per_currency() {
        assert_eq!(eur("2.345").round(), eur("2.35"));
        assert_eq!(eur("-2.345").round(), eur("-2.35"));
        assert_eq!(eur("2.344").round(), eur("2.34"));
        assert_eq!(
            Money::new(d("100.5"), Currency::JPY).round().amount,
            d("101")
        );
        assert_eq!(
            Money::new(d("1.2345"), Currency::KWD).round().amount,
            d("1.235")
        );
        assert_eq!(
            Money::new(d("1.2344"), Currency::BHD).round().amount,
            d("1.234")
        );
    }

    #[test]
    fn refuses_mixed_currencies_and_overflow() {
        let usd = Money::new(d("1"), Currency::USD);
        assert_eq!(
            eur("1").checked_add(&usd),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::EUR,
                right: Currency::USD
            })
        );
        assert!(eur("1").checked_sub(&usd).is_err());
        let max = Money::new(Decimal::MAX, Currency::EUR);
        assert_eq!(
            max.checked_add(&eur("1")),
            Err(MoneyError::Overflow { operation: "add" })
        );
        assert_eq!(
            max.checked_mul(d("2")),
            Err(MoneyError::Overflow { operation: "mul" })
        );
        assert_eq!(
            max.negate().checked_sub(&eur("1")),
            Err(MoneyError::Overflow { operation: "sub" })
        );
    }

    #[test]
    fn allocates_to_the_cent() {
        let parts = eur("100").allocate(&[d("1"), d("1"), d("1")]).unwrap();
        assert_eq!(parts, vec![eur("33.34"), eur("33.33"), eur("33.33")]);
        let parts = eur("-100").allocate(&[d("1"), d("1"), d("1")]).unwrap();
        assert_eq!(parts, vec![eur("-33.34"), eur("-33.33"), eur("-33.33")]);
        let parts = eur("0.05").allocate(&[d("0.3"), d("0.7")]).unwrap();
        assert_eq!(parts, vec![eur("0.02"), eur("0.03")]); // 1.5 and 3.5 cents: the tie goes to the first
        let parts = eur("10").allocate(&[d("0"), d("2")]).unwrap();
        assert_eq!(parts, vec![eur("0"), eur("10")]);
        let yen = Money::new(d("1000"), Currency::JPY)
            .split_evenly(3)
            .unwrap();
        assert_eq!(
            yen.iter().map(|m| m.amount).collect::<Vec<_>>(),
            vec![d("334"), d("333"), d("333")]
        );
        let kwd = Money::new(d("1.000"), Currency::KWD)
            .split_evenly(3)
            .unwrap();
        assert_eq!(
            kwd.iter().map(|m| m.amount).collect::<Vec<_>>(),
            vec![d("0.334"), d("0.333"), d("0.333")]
        );
    }

    #[test]
    fn allocation_refusals() {
        assert_eq!(eur("1").allocate(&[]), Err(MoneyError::NoWeights));
        assert_eq!(
            eur("1").allocate(&[d("1"), d("-1")]),
            Err(MoneyError::NegativeWeight { index: 1 })
        );
        assert_eq!(eur("1").allocate(&[d("0")]), Err(MoneyError::ZeroWeights));
        assert!(matches!(
            eur("1.001").allocate(&[d("1")]),
            Err(MoneyError::NotInMinorUnits { .. })
        ));
        assert_eq!(eur("1").split_evenly(0), Err(MoneyError::NoWeights));
    }

    #[test]
    fn huge_amounts_still_add_up() {
        let big = Money::new(Decimal::MAX, Currency::JPY);
        let parts = big.allocate(&[d("1"), d("3"), d("7")]).unwrap();
        let sum = Money::sum(Currency::JPY, &parts).unwrap();
        assert_eq!(sum, big);
        let big = Money::new(
            Decimal::from_i128_with_scale(i128::from(i64::MAX) * 1000, 2),
            Currency::EUR,
        );
        let parts = big.allocate(&[d("0.000001"), d("1")]).unwrap();
        assert_eq!(Money::sum(Currency::EUR, &parts).unwrap(), big);
    }

    #[test]
    fn display_and_json() {
        assert_eq!(eur("12.5").to_string(), "12.50 EUR");
        assert_eq!(Money::new(d("5"), Currency::JPY).to_string(), "5 JPY");
        let json = serde_json::to_string(&eur("1234.50")).unwrap();
        assert_eq!(json, r#"{"amount":"1234.50","currency":"EUR"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, eur("1234.50"));
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"ZZZ"}"#).is_err());
    }

    #[test]
    fn minor_units() {
        assert_eq!(eur("12.3").to_minor_units(), Ok(1230));
        assert_eq!(
            Money::new(d("12"), Currency::KWD).to_minor_units(),
            Ok(12000)
        );
        assert_eq!(Money::from_minor(-5, Currency::EUR), eur("-0.05"));
        assert!(eur("0.001").to_minor_units().is_err());
    }
}
