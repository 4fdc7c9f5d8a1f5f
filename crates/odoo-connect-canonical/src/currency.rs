//! ISO 4217 currencies and their minor units.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// ISO 4217's code for transactions without a currency.
const NO_CURRENCY_CODE: &str = "XXX";

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 4217 currency: its three-letter code and the number of digits of its minor unit.
///
/// The type is `Copy` and four bytes wide. Only the currencies of the ISO 4217 list of active codes
/// are accepted (see [`Currency::all`]), so the minor units always match the standard: two for most
/// currencies, zero for `JPY` or `KRW`, three for `BHD`, `KWD`, `OMR`, `JOD`, `TND`, `IQD`, `LYD`.
///
/// In JSON a currency is its code, as a string: `"EUR"`.
///
/// ```
/// use odoo_connect_canonical::Currency;
///
/// let kwd: Currency = "KWD".parse()?;
/// assert_eq!(kwd.minor_units(), 3);
/// assert_eq!(Currency::JPY.minor_units(), 0);
/// assert!("EURO".parse::<Currency>().is_err());
/// # Ok::<(), odoo_connect_canonical::CurrencyError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

/// Why a currency code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CurrencyError {
    /// The text is not three ASCII upper-case letters.
    #[error("`{0}` is not a currency code: expected three upper-case letters such as `EUR`")]
    Malformed(String),
    /// Three letters, but not an active ISO 4217 code.
    #[error("`{0}` is not an active ISO 4217 currency code")]
    Unknown(String),
}

macro_rules! currencies {
    ($( $(#[$doc:meta])* $name:ident = $minor:literal ),* $(,)?) => {
        impl Currency {
            $(
                $(#[$doc])*
                pub const $name: Currency = Currency::known(stringify!($name), $minor);
            )*
        }

        /// Every active ISO 4217 currency, sorted by code.
        const ALL: &[Currency] = &[$(Currency::$name),*];
    };
}

currencies! {
    /// UAE dirham.
    AED = 2,
    /// Afghan afghani.
    AFN = 2,
    /// Albanian lek.
    ALL = 2,
    /// Armenian dram.
    AMD = 2,
    /// Angolan kwanza.
    AOA = 2,
    /// Argentine peso.
    ARS = 2,
    /// Australian dollar.
    AUD = 2,
    /// Aruban florin.
    AWG = 2,
    /// Azerbaijani manat.
    AZN = 2,
    /// Bosnia and Herzegovina convertible mark.
    BAM = 2,
    /// Barbados dollar.
    BBD = 2,
    /// Bangladeshi taka.
    BDT = 2,
    /// Bulgarian lev.
    BGN = 2,
    /// Bahraini dinar (three decimals).
    BHD = 3,
    /// Burundian franc (no minor unit).
    BIF = 0,
    /// Bermudian dollar.
    BMD = 2,
    /// Brunei dollar.
    BND = 2,
    /// Bolivian boliviano.
    BOB = 2,
    /// Brazilian real.
    BRL = 2,
    /// Bahamian dollar.
    BSD = 2,
    /// Bhutanese ngultrum.
    BTN = 2,
    /// Botswana pula.
    BWP = 2,
    /// Belarusian ruble.
    BYN = 2,
    /// Belize dollar.
    BZD = 2,
    /// Canadian dollar.
    CAD = 2,
    /// Congolese franc.
    CDF = 2,
    /// Swiss franc.
    CHF = 2,
    /// Unidad de Fomento (four decimals).
    CLF = 4,
    /// Chilean peso (no minor unit).
    CLP = 0,
    /// Chinese yuan renminbi.
    CNY = 2,
    /// Colombian peso.
    COP = 2,
    /// Costa Rican colón.
    CRC = 2,
    /// Cuban peso.
    CUP = 2,
    /// Cabo Verde escudo.
    CVE = 2,
    /// Czech koruna.
    CZK = 2,
    /// Djiboutian franc (no minor unit).
    DJF = 0,
    /// Danish krone.
    DKK = 2,
    /// Dominican peso.
    DOP = 2,
    /// Algerian dinar.
    DZD = 2,
    /// Egyptian pound.
    EGP = 2,
    /// Eritrean nakfa.
    ERN = 2,
    /// Ethiopian birr.
    ETB = 2,
    /// Euro.
    EUR = 2,
    /// Fiji dollar.
    FJD = 2,
    /// Falkland Islands pound.
    FKP = 2,
    /// Pound sterling.
    GBP = 2,
    /// Georgian lari.
    GEL = 2,
    /// Ghana cedi.
    GHS = 2,
    /// Gibraltar pound.
    GIP = 2,
    /// Gambian dalasi.
    GMD = 2,
    /// Guinean franc (no minor unit).
    GNF = 0,
    /// Guatemalan quetzal.
    GTQ = 2,
    /// Guyana dollar.
    GYD = 2,
    /// Hong Kong dollar.
    HKD = 2,
    /// Honduran lempira.
    HNL = 2,
    /// Haitian gourde.
    HTG = 2,
    /// Hungarian forint.
    HUF = 2,
    /// Indonesian rupiah.
    IDR = 2,
    /// Israeli new shekel.
    ILS = 2,
    /// Indian rupee.
    INR = 2,
    /// Iraqi dinar (three decimals).
    IQD = 3,
    /// Iranian rial.
    IRR = 2,
    /// Icelandic króna (no minor unit).
    ISK = 0,
    /// Jamaican dollar.
    JMD = 2,
    /// Jordanian dinar (three decimals).
    JOD = 3,
    /// Japanese yen (no minor unit).
    JPY = 0,
    /// Kenyan shilling.
    KES = 2,
    /// Kyrgyzstani som.
    KGS = 2,
    /// Cambodian riel.
    KHR = 2,
    /// Comorian franc (no minor unit).
    KMF = 0,
    /// North Korean won.
    KPW = 2,
    /// South Korean won (no minor unit).
    KRW = 0,
    /// Kuwaiti dinar (three decimals).
    KWD = 3,
    /// Cayman Islands dollar.
    KYD = 2,
    /// Kazakhstani tenge.
    KZT = 2,
    /// Lao kip.
    LAK = 2,
    /// Lebanese pound.
    LBP = 2,
    /// Sri Lanka rupee.
    LKR = 2,
    /// Liberian dollar.
    LRD = 2,
    /// Lesotho loti.
    LSL = 2,
    /// Libyan dinar (three decimals).
    LYD = 3,
    /// Moroccan dirham.
    MAD = 2,
    /// Moldovan leu.
    MDL = 2,
    /// Malagasy ariary.
    MGA = 2,
    /// Macedonian denar.
    MKD = 2,
    /// Myanmar kyat.
    MMK = 2,
    /// Mongolian tögrög.
    MNT = 2,
    /// Macanese pataca.
    MOP = 2,
    /// Mauritanian ouguiya.
    MRU = 2,
    /// Mauritian rupee.
    MUR = 2,
    /// Maldivian rufiyaa.
    MVR = 2,
    /// Malawian kwacha.
    MWK = 2,
    /// Mexican peso.
    MXN = 2,
    /// Malaysian ringgit.
    MYR = 2,
    /// Mozambican metical.
    MZN = 2,
    /// Namibian dollar.
    NAD = 2,
    /// Nigerian naira.
    NGN = 2,
    /// Nicaraguan córdoba.
    NIO = 2,
    /// Norwegian krone.
    NOK = 2,
    /// Nepalese rupee.
    NPR = 2,
    /// New Zealand dollar.
    NZD = 2,
    /// Omani rial (three decimals).
    OMR = 3,
    /// Panamanian balboa.
    PAB = 2,
    /// Peruvian sol.
    PEN = 2,
    /// Papua New Guinean kina.
    PGK = 2,
    /// Philippine peso.
    PHP = 2,
    /// Pakistani rupee.
    PKR = 2,
    /// Polish złoty.
    PLN = 2,
    /// Paraguayan guaraní (no minor unit).
    PYG = 0,
    /// Qatari riyal.
    QAR = 2,
    /// Romanian leu.
    RON = 2,
    /// Serbian dinar.
    RSD = 2,
    /// Russian ruble.
    RUB = 2,
    /// Rwandan franc (no minor unit).
    RWF = 0,
    /// Saudi riyal.
    SAR = 2,
    /// Solomon Islands dollar.
    SBD = 2,
    /// Seychelles rupee.
    SCR = 2,
    /// Sudanese pound.
    SDG = 2,
    /// Swedish krona.
    SEK = 2,
    /// Singapore dollar.
    SGD = 2,
    /// Saint Helena pound.
    SHP = 2,
    /// Sierra Leonean leone.
    SLE = 2,
    /// Somali shilling.
    SOS = 2,
    /// Surinamese dollar.
    SRD = 2,
    /// South Sudanese pound.
    SSP = 2,
    /// São Tomé and Príncipe dobra.
    STN = 2,
    /// Salvadoran colón.
    SVC = 2,
    /// Syrian pound.
    SYP = 2,
    /// Swazi lilangeni.
    SZL = 2,
    /// Thai baht.
    THB = 2,
    /// Tajikistani somoni.
    TJS = 2,
    /// Turkmenistan manat.
    TMT = 2,
    /// Tunisian dinar (three decimals).
    TND = 3,
    /// Tongan paʻanga.
    TOP = 2,
    /// Turkish lira.
    TRY = 2,
    /// Trinidad and Tobago dollar.
    TTD = 2,
    /// New Taiwan dollar.
    TWD = 2,
    /// Tanzanian shilling.
    TZS = 2,
    /// Ukrainian hryvnia.
    UAH = 2,
    /// Ugandan shilling (no minor unit).
    UGX = 0,
    /// US dollar.
    USD = 2,
    /// Uruguayan peso.
    UYU = 2,
    /// Uzbekistani sum.
    UZS = 2,
    /// Venezuelan bolívar soberano.
    VES = 2,
    /// Vietnamese đồng (no minor unit).
    VND = 0,
    /// Vanuatu vatu (no minor unit).
    VUV = 0,
    /// Samoan tālā.
    WST = 2,
    /// CFA franc BEAC (no minor unit).
    XAF = 0,
    /// East Caribbean dollar.
    XCD = 2,
    /// CFA franc BCEAO (no minor unit).
    XOF = 0,
    /// CFP franc (no minor unit).
    XPF = 0,
    /// Yemeni rial.
    YER = 2,
    /// South African rand.
    ZAR = 2,
    /// Zambian kwacha.
    ZMW = 2,
    /// Zimbabwe gold.
    ZWG = 2,
}

impl Currency {
    const fn known(code: &'static str, minor_units: u8) -> Currency {
        let b = code.as_bytes();
        Currency {
            code: [b[0], b[1], b[2]],
            minor_units,
        }
    }

    /// Looks a currency up by its ISO 4217 code (upper case, as the standard writes it).
    pub fn from_code(code: &str) -> Result<Currency, CurrencyError> {
        let bytes = code.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(CurrencyError::Malformed(code.to_owned()));
        }
        let wanted = [bytes[0], bytes[1], bytes[2]];
        ALL.binary_search_by(|c| c.code.cmp(&wanted))
            .map(|i| ALL[i])
            .map_err(|_| CurrencyError::Unknown(code.to_owned()))
    }

    /// The three-letter code, such as `"EUR"`.
    pub fn code(&self) -> &str {
        // The bytes come from the table of codes above, which are ASCII letters; ISO 4217's code
        // for "no currency" stands in should that ever not hold.
        std::str::from_utf8(&self.code).unwrap_or(NO_CURRENCY_CODE)
    }

    /// Digits after the decimal point in the currency's minor unit (2 for EUR, 0 for JPY, 3 for KWD).
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }

    /// Every active ISO 4217 currency this crate knows, sorted by code.
    pub fn all() -> &'static [Currency] {
        ALL
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        Currency::from_code(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Currency {
    fn schema_name() -> Cow<'static, str> {
        "Currency".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "ISO 4217 currency code (an active code, upper case).",
            "type": "string",
            "pattern": "^[A-Z]{3}$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in ALL.windows(2) {
            assert!(pair[0].code < pair[1].code, "{:?} {:?}", pair[0], pair[1]);
        }
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!(Currency::from_code("EUR"), Ok(Currency::EUR));
        assert_eq!(Currency::from_code("BHD").map(|c| c.minor_units()), Ok(3));
        assert_eq!(Currency::from_code("JPY").map(|c| c.minor_units()), Ok(0));
        assert!(matches!(
            Currency::from_code("eur"),
            Err(CurrencyError::Malformed(_))
        ));
        assert!(matches!(
            Currency::from_code("EU"),
            Err(CurrencyError::Malformed(_))
        ));
        assert!(matches!(
            Currency::from_code("ÉUR"),
            Err(CurrencyError::Malformed(_))
        ));
        assert!(matches!(
            Currency::from_code("ABC"),
            Err(CurrencyError::Unknown(_))
        ));
    }

    #[test]
    fn json_is_the_code() {
        assert_eq!(
            serde_json::to_string(&Currency::KWD).ok().as_deref(),
            Some("\"KWD\"")
        );
        let c: Result<Currency, _> = serde_json::from_str("\"CHF\"");
        assert_eq!(c.ok(), Some(Currency::CHF));
        assert!(serde_json::from_str::<Currency>("\"XYZ\"").is_err());
    }
}
