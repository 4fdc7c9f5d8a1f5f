//! Lead to project: a closed-won deal becomes a client, a confirmed contract and a project with
//! its milestones.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{BookedContract, ClientBooked, Flows, OrderBooked, import_row, key};
use crate::mapping::{
    LinePart, SaleLineRef, client as client_map, contract as contract_map, project as project_map,
};
use odoo_connect_canonical::{
    Client, Contract, ContractStatus, ExternalRef, Project, ProjectKey, Validate,
};
use odoo_connect_client::models::SaleOrder;
use odoo_connect_client::{Domain, RecordId};
use odoo_connect_connectors::{Change, Record};
use odoo_connect_sync::effect::{create_once, ensure};
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
        if contract.status == ContractStatus::Signed {
            let _ = contract.activate();
        }
        let Ok(project_key) = ProjectKey::new(format!("prj-{}", contract.key.as_str())) else {
            continue;
        };
        let mut project =
            Project::new(project_key, contract.title.clone(), contract.client.clone());
        project.contract = Some(contract.key.clone());
        project.start_date = Some(contract.start_date);
        deals.push(WonDeal {
            client: (**client).clone(),
            contract,
            project,
            crm: Some(change.external.clone()),
        });
    }
    deals
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
    let row = import_row(&mapped.values.0).text("ref", deal.client.key.as_str());
    // A partner per client and legal entity: the partner belongs to the entity's company, so a
    // client of two entities has one partner in each (Odoo refuses an order of one company for
    // a partner of another).
    let entity = deal.client.legal_entity.as_str();
    let k = key("client", deal.client.key.as_str(), entity, "partner")?;
    let partner_id = match earlier_partner(f, deal).await? {
        Some(id) => id,
        None => create_once(cx, &f.inner.odoo, "res.partner", &k, &row).await?,
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
    let odoo = &f.inner.odoo;
    let rows: Vec<Value> = odoo
        .model_named::<Value>("ir.model.data")
        .search_read(
            Domain::new()
                .eq("module", module)
                .eq("name", name)
                .eq("model", "res.partner"),
        )
        .fields(["res_id"])
        .limit(1)
        .await?;
    let Some(id) = rows
        .first()
        .and_then(|r| r.get("res_id"))
        .and_then(Value::as_i64)
    else {
        return Ok(None);
    };
    let partner: Vec<Value> = odoo
        .model_named::<Value>("res.partner")
        .search_read(Domain::new().eq("id", id))
        .fields(["company_id"])
        .context(odoo_connect_client::Context::new().active_test(false))
        .await?;
    let company = partner.first().map(|p| many2one(p, "company_id"));
    Ok(match company {
        Some(None) => Some(RecordId(id)),
        Some(Some(c)) if c == f.inner.settings.company_id => Some(RecordId(id)),
        _ => None,
    })
}

/// `deal.contract`: the sale order, its lines, then confirmed.
pub(super) async fn contract(f: &Flows, cx: &mut StepContext, deal: &WonDeal) -> StepResult {
    let odoo = &f.inner.odoo;
    let partner = cx.state.require::<ClientBooked>()?.partner_id;
    let mut ctx = f.inner.ctx.clone();
    ctx.clients.insert(deal.client.key.clone(), partner);
    let c = &deal.contract;
    let mapped = contract_map::to_odoo(c, &ctx)
        .map_err(|e| Stop::bad_data("the contract cannot be written to Odoo", &e))?;
    let mut header = mapped.values.0.clone();
    let lines = header.remove("order_line");
    let crm = deal
        .crm
        .as_ref()
        .map(|r| format!("{}:{}", r.system, r.id))
        .unwrap_or_else(|| c.key.to_string());
    let row = import_row(&header).text("client_order_ref", crm);
    let order_key = key("contract", c.key.as_str(), "won", "sale-order")?;
    let order = create_once(cx, odoo, "sale.order", &order_key, &row).await?;
    // One record per order line, each with its own external id; the lines are independent
    // records, sent together (one `load`, with the lines of other orders under way).
    let lines = lines
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let mut rows = Vec::with_capacity(lines.len());
    for (i, cmd) in lines.iter().enumerate() {
        let Some(values) = cmd.get(2).and_then(Value::as_object) else {
            continue;
        };
        let row = import_row(values).many2one("order_id", order);
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
    let odoo = &f.inner.odoo;
    let partner = cx.state.require::<ClientBooked>()?.partner_id;
    let order = cx.state.require::<OrderBooked>()?.order_id;
    let c = &deal.contract;
    let lines = odoo
        .model_named::<Value>("sale.order.line")
        .search_read(Domain::new().eq("order_id", order.get()))
        .fields(["id", "sequence", "project_id", "task_id", "order_id"])
        .order("sequence, id")
        .await?;
    let line_ids: Vec<RecordId> = lines
        .iter()
        .filter_map(|l| l.get("id").and_then(Value::as_i64).map(RecordId))
        .collect();
    let sale_lines = contract_map::pair_line_ids(c, &line_ids);
    let order_name = lines
        .first()
        .and_then(|l| l.get("order_id"))
        .and_then(|v| v.get(1))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let order_name = match order_name {
        Some(n) => n,
        None => odoo
            .model_named::<Value>("sale.order")
            .read([order])
            .fields(["name"])
            .await?
            .first()
            .and_then(|o| o.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    };
    let tasks: Vec<(SaleLineRef, RecordId)> = sale_lines
        .iter()
        .filter_map(|(r, id)| {
            let line = lines
                .iter()
                .find(|l| l.get("id").and_then(Value::as_i64) == Some(id.get()))?;
            many2one(line, "task_id").map(|t| (r.clone(), RecordId(t)))
        })
        .collect();
    // The project Odoo made on confirmation (on an order line, or linked to the order), or one
    // made here.
    let from_lines = lines.iter().find_map(|l| many2one(l, "project_id"));
    let existing = match from_lines {
        Some(id) => Some(id),
        None => odoo
            .model_named::<Value>("project.project")
            .search_read(Domain::new().eq("sale_order_id", order.get()))
            .fields(["id"])
            .order("id")
            .limit(1)
            .await?
            .first()
            .and_then(|p| p.get("id"))
            .and_then(Value::as_i64),
    };
    let mut ctx = f.inner.ctx.clone();
    ctx.clients.insert(deal.client.key.clone(), partner);
    for (r, id) in &sale_lines {
        ctx.sale_lines.insert(r.clone(), *id);
    }
    let project_id = match existing {
        Some(id) => RecordId(id),
        None => {
            let mapped = project_map::to_odoo(&deal.project, &ctx)
                .map_err(|e| Stop::bad_data("the project cannot be written to Odoo", &e))?;
            let row = import_row(&mapped.values.0).many2one("sale_order_id", order);
            let k = key("contract", c.key.as_str(), "won", "project")?;
            create_once(cx, odoo, "project.project", &k, &row).await?
        }
    };
    ctx.projects.insert(deal.project.key.clone(), project_id);
    // The milestones Odoo made, by order line.
    let milestone_lines: Vec<i64> = sale_lines
        .iter()
        .filter(|(r, _)| matches!(r.part, LinePart::Milestone(_)))
        .map(|(_, id)| id.get())
        .collect();
    let made = if milestone_lines.is_empty() {
        Vec::new()
    } else {
        odoo.model_named::<Value>("project.milestone")
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
                .map(|(_, id)| id.get());
            let odoo_made = made
                .iter()
                .find(|r| line_id.is_some() && many2one(r, "sale_line_id") == line_id);
            if let Some(existing) = odoo_made {
                found += 1;
                // Odoo names the milestone after the line and gives it no deadline: the contract's
                // due date goes on it (a write of the same value is harmless on a retry).
                if let (Some(due), Some(id)) = (
                    m.due_date,
                    existing.get("id").and_then(Value::as_i64).map(RecordId),
                ) {
                    let now = existing.get("deadline").and_then(Value::as_str);
                    if now != Some(due.to_string().as_str()) {
                        odoo.model_named::<Value>("project.milestone")
                            .write(&[id], &json!({"deadline": due.to_string()}))
                            .await?;
                    }
                }
                continue;
            }
            let mapped = project_map::milestone_to_odoo(m, &deal.project.key, &ctx)
                .map_err(|e| Stop::bad_data("a milestone cannot be written to Odoo", &e))?;
            let row = import_row(&mapped.values.0);
            let k = key("milestone", m.key.as_str(), c.key.as_str(), "create")?;
            create_once(cx, odoo, "project.milestone", &k, &row).await?;
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

fn many2one(v: &Value, field: &str) -> Option<i64> {
    match v.get(field) {
        Some(Value::Array(a)) => a.first().and_then(Value::as_i64),
        Some(Value::Number(n)) => n.as_i64(),
        _ => None,
    }
}
