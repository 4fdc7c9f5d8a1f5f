//! What the mappings need resolved beforehand: the server's version and Odoo ids.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::Hash;

use rust_decimal::Decimal;

use odoo_connect_canonical::{
    BillingKind, BillingLineId, ClientKey, ContractKey, CountryCode, Currency, EmployeeKey,
    InvoiceKey, LegalEntityKey, MilestoneKey, PaymentKey, PaymentMethod, PaymentTerms, ProjectKey,
    Role, TaskKey, TimeEntryKey,
};
use odoo_connect_client::{RecordId, ServerVersion};

/// A two-way map between canonical keys (or values) and the ids of Odoo records.
///
/// Several keys may point at one id (two roles sold with one product); reading an id back gives
/// the key inserted last for it.
///
/// ```
/// use odoo_connect_canonical::ClientKey;
/// use odoo_connect_flows::mapping::IdMap;
/// use odoo_connect_client::RecordId;
///
/// let acme: ClientKey = "acme".parse()?;
/// let clients = IdMap::new().with(acme.clone(), 15);
/// assert_eq!(clients.id(&acme), Some(RecordId(15)));
/// assert_eq!(clients.key(RecordId(15)), Some(&acme));
/// assert_eq!(clients.key(RecordId(16)), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct IdMap<K: Eq + Hash> {
    by_key: HashMap<K, RecordId>,
    by_id: BTreeMap<RecordId, K>,
}

impl<K: Eq + Hash> Default for IdMap<K> {
    fn default() -> Self {
        IdMap {
            by_key: HashMap::new(),
            by_id: BTreeMap::new(),
        }
    }
}

impl<K: Eq + Hash + fmt::Debug> fmt::Debug for IdMap<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.by_id.iter()).finish()
    }
}

impl<K: Eq + Hash + Clone> IdMap<K> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `key` to `id` (both ways); returns the id the key had before.
    pub fn insert(&mut self, key: K, id: impl Into<RecordId>) -> Option<RecordId> {
        let id = id.into();
        let previous = self.by_key.insert(key.clone(), id);
        if let Some(old) = previous
            && self.by_id.get(&old) == Some(&key)
        {
            self.by_id.remove(&old);
        }
        self.by_id.insert(id, key);
        previous
    }

    /// The same map with one more entry.
    pub fn with(mut self, key: K, id: impl Into<RecordId>) -> Self {
        self.insert(key, id);
        self
    }

    /// The Odoo id of `key`.
    pub fn id(&self, key: &K) -> Option<RecordId> {
        self.by_key.get(key).copied()
    }

    /// The key of the Odoo record `id`.
    pub fn key(&self, id: RecordId) -> Option<&K> {
        self.by_id.get(&id)
    }

    /// The first id, in id order, whose key satisfies `pred`.
    pub fn find(&self, mut pred: impl FnMut(&K) -> bool) -> Option<RecordId> {
        self.by_id.iter().find(|(_, k)| pred(k)).map(|(id, _)| *id)
    }

    /// Entries by id.
    pub fn iter(&self) -> impl Iterator<Item = (RecordId, &K)> {
        self.by_id.iter().map(|(id, k)| (*id, k))
    }

    /// Number of ids mapped.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// Which part of a billing line a sale order line sells.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LinePart {
    /// The whole billing line (retainer, pass-through expenses, recurring service).
    Whole,
    /// The hours of one role of a time-and-materials rate card.
    Role(Role),
    /// One fixed-fee milestone.
    Milestone(MilestoneKey),
    /// The top-ups of a retainer already invoiced.
    TopUps,
}

/// What a `sale.order.line` stands for: a part of a billing line of a contract.
///
/// [`contract::line_refs`](super::contract::line_refs) gives them in the order of the order lines
/// that [`contract::to_odoo`](super::contract::to_odoo) produces, so that the ids read back can be
/// put in [`MappingContext::sale_lines`].
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct SaleLineRef {
    /// The contract.
    pub contract: ContractKey,
    /// The billing line.
    pub line: BillingLineId,
    /// The part of it.
    pub part: LinePart,
}

impl SaleLineRef {
    /// A reference to a part of a billing line.
    pub fn new(contract: ContractKey, line: BillingLineId, part: LinePart) -> SaleLineRef {
        SaleLineRef {
            contract,
            line,
            part,
        }
    }
}

/// The server's version and the Odoo ids a mapping needs, resolved beforehand.
///
/// Mappings are pure functions: they do not look anything up in Odoo. Whoever calls them resolves
/// the ids first (by reading Odoo, from an idempotency ledger, from configuration) and puts them
/// here. Each map is named after what it holds; the Odoo model is given in its documentation.
///
/// On the way back ([`from_odoo`](super::client::from_odoo) and friends), an Odoo id that a map
/// does not know is turned into a derived key `odoo:<model>:<id>` for records (partners, projects,
/// invoices...), and is an error for values (currencies, countries, payment terms) that cannot be
/// made up.
///
/// ```
/// use odoo_connect_canonical::Currency;
/// use odoo_connect_flows::mapping::MappingContext;
/// use odoo_connect_client::ServerVersion;
///
/// let mut ctx = MappingContext::new(ServerVersion::new(18, 0));
/// ctx.currencies.insert(Currency::USD, 1);
/// ctx.companies.insert("firm-us".parse()?, 1);
/// assert_eq!(ctx.version.major, 18);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MappingContext {
    /// The Odoo version the values are for.
    pub version: ServerVersion,
    /// Legal entities (`res.company`).
    pub companies: IdMap<LegalEntityKey>,
    /// Clients (`res.partner`).
    pub clients: IdMap<ClientKey>,
    /// Currencies (`res.currency`).
    pub currencies: IdMap<Currency>,
    /// Countries (`res.country`).
    pub countries: IdMap<CountryCode>,
    /// States, provinces and regions by name (`res.country.state`).
    pub regions: IdMap<String>,
    /// Payment terms (`account.payment.term`).
    pub payment_terms: IdMap<PaymentTerms>,
    /// A pricelist per currency (`product.pricelist`): how Odoo gives a customer or an order its
    /// currency.
    pub pricelists: IdMap<Currency>,
    /// The service product sold for each billing kind (`product.product`).
    pub products: HashMap<BillingKind, RecordId>,
    /// Products per role of a rate card (`product.product`); roles not listed use the
    /// time-and-materials product of [`MappingContext::products`].
    pub role_products: HashMap<Role, RecordId>,
    /// Expense products per expense category (`product.product`); categories not listed use the
    /// pass-through product of [`MappingContext::products`].
    pub expense_products: HashMap<String, RecordId>,
    /// The unit of measure "Units" (`uom.uom`).
    pub uom_unit: Option<RecordId>,
    /// The unit of measure "Hours" (`uom.uom`).
    pub uom_hour: Option<RecordId>,
    /// Taxes set on the service lines of orders (`account.tax`); empty leaves the products' taxes.
    pub sale_taxes: Vec<RecordId>,
    /// Contracts (`sale.order`).
    pub orders: IdMap<ContractKey>,
    /// The parts of billing lines (`sale.order.line`).
    pub sale_lines: IdMap<SaleLineRef>,
    /// Projects (`project.project`).
    pub projects: IdMap<ProjectKey>,
    /// The analytic account of each project (`account.analytic.account`).
    pub analytic_accounts: IdMap<ProjectKey>,
    /// Analytic accounts of other plans added to every analytic distribution (Odoo 17 and later
    /// combine one account per plan in a distribution key, `"12,34"`).
    pub extra_analytic_accounts: Vec<RecordId>,
    /// Fixed-fee milestones (`project.milestone`).
    pub milestones: IdMap<MilestoneKey>,
    /// Tasks (`project.task`).
    pub tasks: IdMap<TaskKey>,
    /// Employees (`hr.employee`).
    pub employees: IdMap<EmployeeKey>,
    /// The users of employees (`res.users`), for project managers.
    pub users: IdMap<EmployeeKey>,
    /// The usual role of each employee, for time read back without a role's sale line.
    pub employee_roles: HashMap<EmployeeKey, Role>,
    /// Time entries (`account.analytic.line`).
    pub time_entries: IdMap<TimeEntryKey>,
    /// Invoices and credit notes (`account.move`).
    pub invoices: IdMap<InvoiceKey>,
    /// Payments (`account.payment`).
    pub payments: IdMap<PaymentKey>,
    /// The bank journal payments are recorded in (`account.journal`).
    pub payment_journal: Option<RecordId>,
    /// Payment methods (`account.payment.method.line`).
    pub payment_methods: IdMap<PaymentMethod>,
    /// Tax rates in percent by tax (`account.tax`), for invoices read back.
    pub tax_rates: HashMap<RecordId, Decimal>,
    /// The currency of documents whose Odoo record does not carry one (a customer, a milestone
    /// without a sale line).
    pub default_currency: Option<Currency>,
    /// The legal entity of records that name no company (a customer shared by all companies, a
    /// record read without its `company_id`).
    pub default_legal_entity: Option<LegalEntityKey>,
}

impl MappingContext {
    /// A context for this version with nothing resolved yet.
    pub fn new(version: ServerVersion) -> MappingContext {
        MappingContext {
            version,
            companies: IdMap::new(),
            clients: IdMap::new(),
            currencies: IdMap::new(),
            countries: IdMap::new(),
            regions: IdMap::new(),
            payment_terms: IdMap::new(),
            pricelists: IdMap::new(),
            products: HashMap::new(),
            role_products: HashMap::new(),
            expense_products: HashMap::new(),
            uom_unit: None,
            uom_hour: None,
            sale_taxes: Vec::new(),
            orders: IdMap::new(),
            sale_lines: IdMap::new(),
            projects: IdMap::new(),
            analytic_accounts: IdMap::new(),
            extra_analytic_accounts: Vec::new(),
            milestones: IdMap::new(),
            tasks: IdMap::new(),
            employees: IdMap::new(),
            users: IdMap::new(),
            employee_roles: HashMap::new(),
            time_entries: IdMap::new(),
            invoices: IdMap::new(),
            payments: IdMap::new(),
            payment_journal: None,
            payment_methods: IdMap::new(),
            tax_rates: HashMap::new(),
            default_currency: None,
            default_legal_entity: None,
        }
    }

    /// The same context for another version (the ids stay).
    pub fn for_version(&self, version: ServerVersion) -> MappingContext {
        MappingContext {
            version,
            ..self.clone()
        }
    }

    /// The id of the sale order line selling `part` of `line`, in any contract when `contract`
    /// is `None`.
    pub fn sale_line(
        &self,
        contract: Option<&ContractKey>,
        line: &BillingLineId,
        part: &LinePart,
    ) -> Option<RecordId> {
        self.sale_lines.find(|r| {
            &r.line == line && &r.part == part && contract.is_none_or(|c| &r.contract == c)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_map_both_ways() {
        let mut m: IdMap<String> = IdMap::new();
        assert_eq!(m.insert("a".into(), 1), None);
        assert_eq!(m.insert("b".into(), 1), None);
        assert_eq!(m.key(RecordId(1)).map(String::as_str), Some("b"));
        assert_eq!(m.id(&"a".to_string()), Some(RecordId(1)));
        assert_eq!(m.insert("b".into(), 2), Some(RecordId(1)));
        assert_eq!(m.key(RecordId(1)), None);
        assert_eq!(m.key(RecordId(2)).map(String::as_str), Some("b"));
        assert_eq!(m.find(|k| k == "b"), Some(RecordId(2)));
        assert_eq!(m.len(), 1);
        assert!(!m.is_empty());
        assert_eq!(format!("{m:?}"), r#"{RecordId(2): "b"}"#);
    }
}
