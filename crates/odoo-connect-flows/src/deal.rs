//! Lead to project: a closed-won deal becomes a client, a confirmed contract and a project with
//! its milestones.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{BookedContract, ClientBooked, Flows, OrderBooked, key};
use crate::mapping::{
    LinePart, SaleLineRef, client as client_map, contract as contract_map, project as project_map,
};
use odoo_connect_canonical::{
    Client, Contract, ContractStatus, ExternalRef, Project, ProjectKey, Validate,
};
use odoo_connect_client::models::{
    Milestone as OdooMilestone, MilestoneValues, Partner, Project as OdooProject, SaleOrder,
    SaleOrderLine,
};
use odoo_connect_client::{Domain, Model, RecordId};
use odoo_connect_connectors::{Change, CrmDeal, Record};
use odoo_connect_sync::effect::{ImportRow, create_values_once, ensure};
use odoo_connect_sync::step::{StepContext, StepResult, Stop};
use odoo_connect_sync::store::AuditEvent;

/// A closed-won deal: the client, the contract with its commercial terms, and the project that
/// delivers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WonDeal {
    /// The customer.
    pub client: Client,
    /// The contract (signed and active once booked).
    pub contract: Contract,
    /// The project delivering the contract.
    pub project: Project,
    /// The deal in the CRM.
    pub crm: Option<ExternalRef>,
}

/// Pairs the client and contract changes a CRM connector gives for each won deal (HubSpot,
/// Salesforce) into [`WonDeal`]s. `terms` sets the commercial terms of each contract (its billing
/// lines: the CRM holds the amount, the statement of work holds the terms). A contract is signed
/// on its start date and activated when it is still a draft. Changes of other kinds, and
/// contracts whose client is not among the changes, are left out.
///
/// ```
/// use odoo_connect_flows::won_deals;
/// assert!(won_deals(&[], |_c| {}).is_empty());
/// ```
pub fn won_deals(changes: &[Change], terms: impl Fn(&mut Contract)) -> Vec<WonDeal> {
    let mut deals = Vec::new();
    for change in changes {
        let Record::Contract(contract) = &change.record else {
            continue;
        };
        let Some(client) = changes.iter().find_map(|c| match &c.record {
            Record::Client(cl) if cl.key == contract.client => Some(cl),
            _ => None,
        }) else {
            continue;
        };
        let mut contract = (**contract).clone();
        terms(&mut contract);
        if contract.status == ContractStatus::Draft {
            let _ = contract.sign(contract.start_date);
        }
        if let Some(deal) = deal_of((**client).clone(), contract, change.external.clone()) {
            deals.push(deal);
        }
    }
    deals
}

/// The won deal of a client and its contract (signed; activated here) from the CRM deal `crm`,
/// with the project that delivers it; `None` when no project key can be made of the contract's.
fn deal_of(client: Client, mut contract: Contract, crm: ExternalRef) -> Option<WonDeal> {
    if contract.status == ContractStatus::Signed {
        let _ = contract.activate();
    }
    let project_key = ProjectKey::new(format!("prj-{}", contract.key.as_str())).ok()?;
    let mut project = Project::new(project_key, contract.title.clone(), contract.client.clone());
    project.contract = Some(contract.key.clone());
    project.start_date = Some(contract.start_date);
    Some(WonDeal {
        client,
        contract,
        project,
        crm: Some(crm),
    })
}

/// What `contract.signed` hands to the deal steps when it books a signature from its CRM deal.
#[derive(Debug, Clone)]
pub(crate) struct DealFromSignature(pub(crate) WonDeal);

/// `contract.signed`: a signed contract linked to the contract booked from its CRM deal, or a
/// signature that names only the CRM deal booked from the CRM record (by the `deal.*` steps
/// after this one), or held.
pub(super) async fn signed(f: &Flows, cx: &mut StepContext, change: &Change) -> StepResult {
    let (key, crm, envelope, signature) = match &change.record {
        Record::Signature(s) => (
            s.contract.clone(),
            Some(s.crm.clone()),
            s.envelope.clone(),
            Some(&**s),
        ),
        Record::Contract(c) => (c.key.clone(), None, change.external.clone(), None),
        _ => return Ok(()),
    };
    // (a) Booked already, from the CRM's won deal or an earlier signature: linked.
    let booked = match super::recall(f, cx, Some(&key), None).await? {
        Some(b) => Some(b),
        None => match &crm {
            Some(r) => super::recall_by_crm(f, cx, r).await?,
            None => None,
        },
    };
    if let Some(b) = booked {
        cx.audit(
            AuditEvent::new(crate::FlowEvent::ContractSigned.into())
                .step("contract.signed")
                .details(json!({
                    "contract": b.contract.key.as_str(), "order": b.order_id.get(),
                    "envelope": format!("{}:{}", envelope.system, envelope.id),
                    "crm": b.crm.as_ref().map(|r| format!("{}:{}", r.system, r.id)),
                    "signed_on": signature.map(|s| s.signed_on),
                    "outcome": "linked",
                })),
        );
        return Ok(());
    }
    // A full contract not booked yet: the CRM's won deal books it.
    let (Some(signature), Some(crm)) = (signature, crm) else {
        return Ok(());
    };
    // (b) Read from the CRM and booked by the deal steps; (c) else held.
    let detail = json!({
        "contract": key.as_str(), "crm": format!("{}:{}", crm.system, crm.id),
        "envelope": format!("{}:{}", envelope.system, envelope.id),
    });
    let Some(source) = f.crm_source(&crm.system) else {
        return Err(Stop::held(
            "no_crm_lookup",
            json!({"why": format!(
                "no CRM lookup for {} is set (Flows::with_crm_lookup) to book deal {} signed in \
                 envelope {}", crm.system, crm.id, envelope.id
            ), "signature": detail}),
        ));
    };
    let (client, contract) = match source.lookup.won_deal(&crm.id).await? {
        CrmDeal::Won { client, contract } => (*client, *contract),
        CrmDeal::NotFound => {
            return Err(Stop::held(
                "crm_deal_not_found",
                json!({"why": format!("{} has no deal {}", crm.system, crm.id),
                       "signature": detail}),
            ));
        }
        CrmDeal::NotBookable { reason } => {
            return Err(Stop::held(
                "crm_deal_not_bookable",
                json!({"why": reason, "signature": detail}),
            ));
        }
        _ => {
            return Err(Stop::held(
                "crm_deal_not_bookable",
                json!({"why": "the CRM's answer is not understood", "signature": detail}),
            ));
        }
    };
    let mut contract = contract;
    let mut client = client;
    // The signature's key (the correlation and lane of its message), what the envelope named
    // over the CRM's values, then the terms; signed on the day the envelope was completed.
    contract.key = key;
    signature.apply_to(&mut contract);
    client.legal_entity = contract.legal_entity.clone();
    (source.terms)(&mut contract);
    let Some(deal) = deal_of(client, contract, crm) else {
        return Err(Stop::held(
            "crm_deal_not_bookable",
            json!({"why": "no project key can be made of the contract key", "signature": detail}),
        ));
    };
    cx.audit(
        AuditEvent::new(crate::FlowEvent::ContractSigned.into())
            .step("contract.signed")
            .details(json!({
                "contract": deal.contract.key.as_str(),
                "envelope": format!("{}:{}", envelope.system, envelope.id),
                "crm": format!("{}:{}", signature.crm.system, signature.crm.id),
                "signed_on": signature.signed_on,
                "outcome": "booking_from_crm",
            })),
    );
    cx.state.insert(DealFromSignature(deal));
    Ok(())
}

/// `deal.client`: the customer, once per client (two deals with one company make one partner).
pub(super) async fn client(f: &Flows, cx: &mut StepContext, deal: &WonDeal) -> StepResult {
    deal.client
        .validate()
        .map_err(|e| Stop::bad_data("the client is not valid", &e))?;
    deal.contract
        .validate()
        .map_err(|e| Stop::bad_data("the contract is not valid", &e))?;
    let mapped = client_map::to_odoo(&deal.client, &f.inner.ctx)
        .map_err(|e| Stop::bad_data("the client cannot be written to Odoo", &e))?;
    let mut partner = mapped.values;
    partner.reference = Some(Some(deal.client.key.to_string()));
    // A partner per client and legal entity: the partner belongs to the entity's company, so a
    // client of two entities has one partner in each (Odoo refuses an order of one company for
    // a partner of another).
    let entity = deal.client.legal_entity.as_str();
    let k = key("client", deal.client.key.as_str(), entity, "partner")?;
    let partner_id = match earlier_partner(f, deal).await? {
        Some(id) => id,
        None => create_values_once(cx, f.odoo_for(crate::FlowPath::Booking), &k, &partner).await?,
    };
    cx.state.insert(ClientBooked { partner_id });
    Ok(())
}

/// The partner an earlier release booked for the client under its key of one partner per client
/// (`client:<key>:1:partner`), when it is of the flows' company or shared: used rather than a
/// second partner for the same client.
async fn earlier_partner(f: &Flows, deal: &WonDeal) -> StepResult<Option<RecordId>> {
    let legacy = key("client", deal.client.key.as_str(), "1", "partner")?;
    let xmlid = odoo_connect_sync::effect::external_id(&legacy);
    let Some((module, name)) = xmlid.split_once('.') else {
        return Ok(None);
    };
    let odoo = f.odoo_for(crate::FlowPath::Booking);
    let xmlid = format!("{module}.{name}");
    let found = odoo_connect_sync::effect::existing_records(
        odoo,
        Partner::MODEL,
        std::slice::from_ref(&xmlid),
    )
    .await?;
    let Some(id) = found.get(&xmlid).copied() else {
        return Ok(None);
    };
    let partner: Vec<Partner> = odoo
        .model::<Partner>()
        .read([id])
        .fields(["company_id"])
        .context(odoo_connect_client::Context::new().active_test(false))
        .await?;
    let company = partner.first().map(|p| p.company_id.as_ref().map(|c| c.id));
    Ok(match company {
        Some(None) => Some(id),
        Some(Some(c)) if c.get() == f.inner.settings.company_id => Some(id),
        _ => None,
    })
}

/// `deal.contract`: the sale order, its lines, then confirmed.
pub(super) async fn contract(f: &Flows, cx: &mut StepContext, deal: &WonDeal) -> StepResult {
    let odoo = f.odoo_for(crate::FlowPath::Booking);
    let partner = cx.state.require::<ClientBooked>()?.partner_id;
    let mut ctx = f.inner.ctx.clone();
    ctx.clients.insert(deal.client.key.clone(), partner);
    let c = &deal.contract;
    let mapped = contract_map::to_odoo(c, &ctx)
        .map_err(|e| Stop::bad_data("the contract cannot be written to Odoo", &e))?;
    let mut header = mapped.values;
    let lines = std::mem::take(&mut header.order_line.0);
    header.client_order_ref = Some(
        deal.crm
            .as_ref()
            .map(|r| format!("{}:{}", r.system, r.id))
            .unwrap_or_else(|| c.key.to_string()),
    );
    let order_key = key("contract", c.key.as_str(), "won", "sale-order")?;
    let order = create_values_once(cx, odoo, &order_key, &header).await?;
    // One record per order line, each with its own external id; the lines are independent
    // records, sent together (one `load`, with the lines of other orders under way).
    let mut rows = Vec::with_capacity(lines.len());
    for (i, mut line) in lines.into_iter().enumerate() {
        line.order_id = Some(order);
        let row = ImportRow::from_values(&line, &ctx.version)?;
        rows.push((
            key("contract", c.key.as_str(), "won", &format!("line-{i}"))?,
            row,
        ));
    }
    for created in f.inner.order_lines.create_all(cx, &rows).await {
        created?;
    }
    // Confirm: read the order's state first, so a retry after a lost reply does not confirm twice.
    let confirm_key = key("contract", c.key.as_str(), "won", "confirm")?;
    let read_order = || async move {
        let orders: Vec<SaleOrder> = odoo
            .model::<SaleOrder>()
            .read([order])
            .fields(["state", "locked"])
            .await?;
        Ok::<_, odoo_connect_client::Error>(orders.into_iter().next())
    };
    let version = ctx.version.clone();
    let is_done = || {
        let version = version.clone();
        async move {
            let Some(so) = read_order().await? else {
                return Ok(None);
            };
            let pending = contract_map::workflow_calls(c, &so, &version);
            Ok(pending
                .is_empty()
                .then(|| json!({"order": order.get(), "state": "confirmed"})))
        }
    };
    let act = || async move {
        let Some(so) = read_order().await? else {
            return Ok(Value::Null);
        };
        for call in contract_map::workflow_calls(c, &so, &ctx.version) {
            odoo.call::<Value>(&call).await?;
        }
        Ok(Value::Null)
    };
    ensure(cx, &confirm_key, is_done, act).await?;
    cx.state.insert(OrderBooked { order_id: order });
    cx.audit(
        AuditEvent::new(crate::FlowEvent::ContractConfirmed.into())
            .step("deal.contract")
            .details(json!({"contract": c.key.as_str(), "order": order.get()})),
    );
    Ok(())
}

/// `deal.project`: the project and its milestones, as Odoo's `sale_project` made them when the
/// order was confirmed (a project per order for the lines tracked in a project, a milestone per
/// line delivered by milestones, a task per line tracked as a task): they are found, not made
/// again. What Odoo did not make (products of the firm's catalogue that are not tracked in a
/// project) is created once, linked to its order line.
pub(super) async fn project(f: &Flows, cx: &mut StepContext, deal: &WonDeal) -> StepResult {
    let odoo = f.odoo_for(crate::FlowPath::Booking);
    let partner = cx.state.require::<ClientBooked>()?.partner_id;
    let order = cx.state.require::<OrderBooked>()?.order_id;
    let c = &deal.contract;
    let lines: Vec<SaleOrderLine> = odoo
        .model::<SaleOrderLine>()
        .search_read(Domain::new().eq("order_id", order.get()))
        .fields(["id", "sequence", "project_id", "task_id", "order_id"])
        .order("sequence, id")
        .await?;
    let line_ids: Vec<RecordId> = lines.iter().map(|l| l.id).collect();
    let sale_lines = contract_map::pair_line_ids(c, &line_ids);
    let order_name = lines
        .first()
        .and_then(|l| l.order_id.as_ref())
        .and_then(|o| o.name.clone());
    let order_name = match order_name {
        Some(n) => n,
        None => odoo
            .model::<SaleOrder>()
            .read([order])
            .fields(["name"])
            .await?
            .into_iter()
            .next()
            .map(|o| o.name)
            .unwrap_or_default(),
    };
    let tasks: Vec<(SaleLineRef, RecordId)> = sale_lines
        .iter()
        .filter_map(|(r, id)| {
            let line = lines.iter().find(|l| l.id == *id)?;
            line.task_id.as_ref().map(|t| (r.clone(), t.id))
        })
        .collect();
    // The project Odoo made on confirmation (on an order line, or linked to the order), or one
    // made here.
    let from_lines = lines
        .iter()
        .find_map(|l| l.project_id.as_ref().map(|p| p.id));
    let existing = match from_lines {
        Some(id) => Some(id),
        None => odoo
            .model::<OdooProject>()
            .search(Domain::new().eq("sale_order_id", order.get()))
            .order("id")
            .limit(1)
            .await?
            .first()
            .copied(),
    };
    let mut ctx = f.inner.ctx.clone();
    ctx.clients.insert(deal.client.key.clone(), partner);
    for (r, id) in &sale_lines {
        ctx.sale_lines.insert(r.clone(), *id);
    }
    let project_id = match existing {
        Some(id) => id,
        None => {
            let mut values = project_map::to_odoo(&deal.project, &ctx)
                .map_err(|e| Stop::bad_data("the project cannot be written to Odoo", &e))?
                .values;
            values.sale_order_id = Some(order);
            // The order's company: Odoo makes no project for an order that sells nothing
            // delivered on one (a recurring fee alone), and a project of no company for a
            // customer of a company is refused ("no company crossover").
            values.company_id = Some(Some(RecordId(f.inner.settings.company_id)));
            let k = key("contract", c.key.as_str(), "won", "project")?;
            create_values_once(cx, odoo, &k, &values).await?
        }
    };
    ctx.projects.insert(deal.project.key.clone(), project_id);
    // The milestones Odoo made, by order line.
    let milestone_lines: Vec<i64> = sale_lines
        .iter()
        .filter(|(r, _)| matches!(r.part, LinePart::Milestone(_)))
        .map(|(_, id)| id.get())
        .collect();
    let made: Vec<OdooMilestone> = if milestone_lines.is_empty() {
        Vec::new()
    } else {
        odoo.model::<OdooMilestone>()
            .search_read(Domain::new().is_in("sale_line_id", milestone_lines))
            .fields(["id", "sale_line_id", "deadline"])
            .order("id")
            .await?
    };
    let mut found = 0;
    let mut created = 0;
    for line in &c.billing_lines {
        for m in line.milestones() {
            let part = LinePart::Milestone(m.key.clone());
            let line_id = sale_lines
                .iter()
                .find(|(r, _)| r.part == part)
                .map(|(_, id)| *id);
            let odoo_made = made
                .iter()
                .find(|r| line_id.is_some() && r.sale_line_id.as_ref().map(|l| l.id) == line_id);
            if let Some(existing) = odoo_made {
                found += 1;
                // Odoo names the milestone after the line and gives it no deadline: the contract's
                // due date goes on it (a write of the same value is harmless on a retry).
                if let Some(due) = m.due_date
                    && existing.deadline != Some(due)
                {
                    let mut values = MilestoneValues::new();
                    values.deadline = Some(Some(due));
                    odoo.model::<OdooMilestone>()
                        .write_values(&[existing.id], &values)
                        .await?;
                }
                continue;
            }
            let values = project_map::milestone_to_odoo(m, &deal.project.key, &ctx)
                .map_err(|e| Stop::bad_data("a milestone cannot be written to Odoo", &e))?
                .values;
            let k = key("milestone", m.key.as_str(), c.key.as_str(), "create")?;
            create_values_once(cx, odoo, &k, &values).await?;
            created += 1;
        }
    }
    let booked = BookedContract {
        contract: c.clone(),
        project: deal.project.key.clone(),
        crm: deal.crm.clone(),
        partner_id: partner,
        order_id: order,
        order_name,
        project_id,
        sale_lines,
        tasks,
    };
    // Kept durably, so that a worker that never saw this booking finds it.
    super::remember(cx, &booked).await?;
    f.inner.book.insert(booked);
    cx.audit(
        AuditEvent::new(crate::FlowEvent::ProjectReady.into())
            .step("deal.project")
            .details(json!({
                "contract": c.key.as_str(), "project": project_id.get(),
                "milestones_found": found, "milestones_created": created,
            })),
    );
    Ok(())
}
