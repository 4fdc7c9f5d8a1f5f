// The Odoo model `res.partner` as a Rust type, written by odoo-connect's codegen from the
// server's field descriptions. Regenerate it rather than edit it.

odoo_connect_client::odoo_selection! {
    /// `res.partner.activity_exception_decoration`: Activity Exception Decoration.
    pub enum ResPartnerActivityExceptionDecoration {
        /// Alert (`warning`).
        Warning = "warning",
        /// Error (`danger`).
        Danger = "danger",
    }
}

odoo_connect_client::odoo_selection! {
    /// `res.partner.activity_state`: Activity State.
    pub enum ResPartnerActivityState {
        /// Overdue (`overdue`).
        Overdue = "overdue",
        /// Today (`today`).
        Today = "today",
        /// Planned (`planned`).
        Planned = "planned",
    }
}

odoo_connect_client::odoo_selection! {
    /// `res.partner.autopost_bills`: Auto-post bills.
    pub enum ResPartnerAutopostBills {
        /// Always (`always`).
        Always = "always",
        /// Ask after 3 validations without edits (`ask`).
        Ask = "ask",
        /// Never (`never`).
        Never = "never",
    }
}

odoo_connect_client::odoo_selection! {
    /// `res.partner.company_type`: Company Type.
    pub enum ResPartnerCompanyType {
        /// Individual (`person`).
        Person = "person",
        /// Company (`company`).
        Company = "company",
    }
}

odoo_connect_client::odoo_selection! {
    /// `res.partner.invoice_edi_format`: eInvoice format.
    pub enum ResPartnerInvoiceEdiFormat {
        /// France (FacturX) (`facturx`).
        Facturx = "facturx",
        /// EU Standard (Peppol Bis 3.0) (`ubl_bis3`).
        UblBis3 = "ubl_bis3",
        /// Germany (XRechnung) (`xrechnung`).
        Xrechnung = "xrechnung",
        /// Netherlands (NLCIUS) (`nlcius`).
        Nlcius = "nlcius",
        /// Australia BIS Billing 3.0 A-NZ (`ubl_a_nz`).
        UblANz = "ubl_a_nz",
        /// Singapore BIS Billing 3.0 SG (`ubl_sg`).
        UblSg = "ubl_sg",
    }
}

odoo_connect_client::odoo_selection! {
    /// `res.partner.invoice_sending_method`: Invoice sending.
    pub enum ResPartnerInvoiceSendingMethod {
        /// Download (`manual`).
        Manual = "manual",
        /// by Email (`email`).
        Email = "email",
        /// by Post (`snailmail`).
        Snailmail = "snailmail",
    }
}

odoo_connect_client::odoo_selection! {
    /// `res.partner.invoice_warn`: Invoice.
    pub enum ResPartnerInvoiceWarn {
        /// No Message (`no-message`).
        NoMessage = "no-message",
        /// Warning (`warning`).
        Warning = "warning",
        /// Blocking Message (`block`).
        Block = "block",
    }
}

odoo_connect_client::odoo_selection! {
    /// `res.partner.lang`: Language.
    pub enum ResPartnerLang {
        /// English (US) (`en_US`).
        EnUS = "en_US",
    }
}

odoo_connect_client::odoo_selection! {
    /// `res.partner.sale_warn`: Sales Warnings.
    pub enum ResPartnerSaleWarn {
        /// No Message (`no-message`).
        NoMessage = "no-message",
        /// Warning (`warning`).
        Warning = "warning",
        /// Blocking Message (`block`).
        Block = "block",
    }
}

odoo_connect_client::odoo_selection! {
    /// `res.partner.trust`: Degree of trust you have in this debtor.
    pub enum ResPartnerTrust {
        /// Good Debtor (`good`).
        Good = "good",
        /// Normal Debtor (`normal`).
        Normal = "normal",
        /// Bad Debtor (`bad`).
        Bad = "bad",
    }
}

odoo_connect_client::odoo_selection! {
    /// `res.partner.type`: Address Type.
    pub enum ResPartnerType {
        /// Contact (`contact`).
        Contact = "contact",
        /// Invoice Address (`invoice`).
        Invoice = "invoice",
        /// Delivery Address (`delivery`).
        Delivery = "delivery",
        /// Other Address (`other`).
        OtherValue = "other",
    }
}

/// A `res.partner` record.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, odoo_connect_client::Model)]
#[odoo(model = "res.partner")]
pub struct ResPartner {
    /// Record id (`id`).
    pub id: odoo_connect_client::RecordId,
    /// Active.
    ///
    /// `active`: boolean.
    #[serde(default)]
    pub active: bool,
    /// Active Lang Count.
    ///
    /// `active_lang_count`: integer, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub active_lang_count: Option<i64>,
    /// Next Activity Deadline.
    ///
    /// `activity_date_deadline`: date, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::date::option")]
    pub activity_date_deadline: Option<chrono::NaiveDate>,
    /// Activity Exception Decoration.
    ///
    /// `activity_exception_decoration`: selection, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub activity_exception_decoration: Option<ResPartnerActivityExceptionDecoration>,
    /// Icon.
    ///
    /// `activity_exception_icon`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub activity_exception_icon: Option<String>,
    /// Activities.
    ///
    /// `activity_ids`: one2many of `mail.activity`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub activity_ids: Vec<odoo_connect_client::RecordId>,
    /// Activity State.
    ///
    /// `activity_state`: selection, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub activity_state: Option<ResPartnerActivityState>,
    /// Next Activity Summary.
    ///
    /// `activity_summary`: char, not stored.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub activity_summary: Option<String>,
    /// Activity Type Icon.
    ///
    /// `activity_type_icon`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub activity_type_icon: Option<String>,
    /// Next Activity Type.
    ///
    /// `activity_type_id`: many2one of `mail.activity.type`, not stored.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub activity_type_id: Option<odoo_connect_client::Many2one>,
    /// Responsible User.
    ///
    /// `activity_user_id`: many2one of `res.users`, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub activity_user_id: Option<odoo_connect_client::Many2one>,
    /// Additional info.
    ///
    /// `additional_info`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub additional_info: Option<String>,
    /// Auto-post bills.
    ///
    /// `autopost_bills`: selection, required.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub autopost_bills: Option<ResPartnerAutopostBills>,
    /// Available Peppol Eas.
    ///
    /// `available_peppol_eas`: json, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub available_peppol_eas: Option<serde_json::Value>,
    /// Avatar 1024.
    ///
    /// `avatar_1024`: binary, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub avatar_1024: Option<odoo_connect_client::Binary>,
    /// Avatar 128.
    ///
    /// `avatar_128`: binary, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub avatar_128: Option<odoo_connect_client::Binary>,
    /// Avatar.
    ///
    /// `avatar_1920`: binary, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub avatar_1920: Option<odoo_connect_client::Binary>,
    /// Avatar 256.
    ///
    /// `avatar_256`: binary, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub avatar_256: Option<odoo_connect_client::Binary>,
    /// Avatar 512.
    ///
    /// `avatar_512`: binary, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub avatar_512: Option<odoo_connect_client::Binary>,
    /// Bank.
    ///
    /// `bank_account_count`: integer, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub bank_account_count: Option<i64>,
    /// Banks.
    ///
    /// `bank_ids`: one2many of `res.partner.bank`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub bank_ids: Vec<odoo_connect_client::RecordId>,
    /// Barcode.
    ///
    /// `barcode`: char, company dependent.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub barcode: Option<String>,
    /// Tags.
    ///
    /// `category_id`: many2many of `res.partner.category`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub category_id: Vec<odoo_connect_client::RecordId>,
    /// Channels.
    ///
    /// `channel_ids`: many2many of `discuss.channel`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub channel_ids: Vec<odoo_connect_client::RecordId>,
    /// Contact.
    ///
    /// `child_ids`: one2many of `res.partner`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub child_ids: Vec<odoo_connect_client::RecordId>,
    /// City.
    ///
    /// `city`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub city: Option<String>,
    /// Color Index.
    ///
    /// `color`: integer.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub color: Option<i64>,
    /// Notes.
    ///
    /// `comment`: html.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub comment: Option<String>,
    /// Company Name Entity.
    ///
    /// `commercial_company_name`: char, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub commercial_company_name: Option<String>,
    /// Commercial Entity.
    ///
    /// `commercial_partner_id`: many2one of `res.partner`, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub commercial_partner_id: Option<odoo_connect_client::Many2one>,
    /// Company.
    ///
    /// `company_id`: many2one of `res.company`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub company_id: Option<odoo_connect_client::Many2one>,
    /// Company Name.
    ///
    /// `company_name`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub company_name: Option<String>,
    /// Company ID.
    ///
    /// `company_registry`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub company_registry: Option<String>,
    /// Company ID Label.
    ///
    /// `company_registry_label`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub company_registry_label: Option<String>,
    /// Company Type.
    ///
    /// `company_type`: selection, not stored.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub company_type: Option<ResPartnerCompanyType>,
    /// Complete Name.
    ///
    /// `complete_name`: char, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub complete_name: Option<String>,
    /// Complete Address.
    ///
    /// `contact_address`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub contact_address: Option<String>,
    /// Inlined Complete Address.
    ///
    /// `contact_address_inline`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub contact_address_inline: Option<String>,
    /// Partner Contracts.
    ///
    /// `contract_ids`: one2many of `account.analytic.account`, read-only.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub contract_ids: Vec<odoo_connect_client::RecordId>,
    /// Country Code.
    ///
    /// `country_code`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub country_code: Option<String>,
    /// Country.
    ///
    /// `country_id`: many2one of `res.country`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub country_id: Option<odoo_connect_client::Many2one>,
    /// Created on.
    ///
    /// `create_date`: datetime, read-only.
    #[serde(default, with = "odoo_connect_client::value::datetime::option")]
    pub create_date: Option<chrono::DateTime<chrono::Utc>>,
    /// Created by.
    ///
    /// `create_uid`: many2one of `res.users`, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub create_uid: Option<odoo_connect_client::Many2one>,
    /// Total Receivable.
    ///
    /// `credit`: monetary, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    pub credit: Option<rust_decimal::Decimal>,
    /// Credit Limit.
    ///
    /// `credit_limit`: float, company dependent.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub credit_limit: Option<f64>,
    /// Credit To Invoice.
    ///
    /// `credit_to_invoice`: monetary, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    pub credit_to_invoice: Option<rust_decimal::Decimal>,
    /// Currency.
    ///
    /// `currency_id`: many2one of `res.currency`, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub currency_id: Option<odoo_connect_client::Many2one>,
    /// Customer Rank.
    ///
    /// `customer_rank`: integer.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub customer_rank: Option<i64>,
    /// Days Sales Outstanding (DSO).
    ///
    /// `days_sales_outstanding`: float, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub days_sales_outstanding: Option<f64>,
    /// Total Payable.
    ///
    /// `debit`: monetary, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    pub debit: Option<rust_decimal::Decimal>,
    /// Payable Limit.
    ///
    /// `debit_limit`: monetary.
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    pub debit_limit: Option<rust_decimal::Decimal>,
    /// Display Invoice Edi Format.
    ///
    /// `display_invoice_edi_format`: boolean, not stored.
    #[serde(default)]
    pub display_invoice_edi_format: bool,
    /// Display Invoice Template Pdf Report.
    ///
    /// `display_invoice_template_pdf_report_id`: boolean, not stored.
    #[serde(default)]
    pub display_invoice_template_pdf_report_id: bool,
    /// Display Name.
    ///
    /// `display_name`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub display_name: Option<String>,
    /// Duplicate Bank Partner.
    ///
    /// `duplicate_bank_partner_ids`: many2many of `res.partner`, not stored, read-only.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub duplicate_bank_partner_ids: Vec<odoo_connect_client::RecordId>,
    /// Duplicated Bank Account Partners Count.
    ///
    /// `duplicated_bank_account_partners_count`: integer, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub duplicated_bank_account_partners_count: Option<i64>,
    /// Email.
    ///
    /// `email`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub email: Option<String>,
    /// Formatted Email.
    ///
    /// `email_formatted`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub email_formatted: Option<String>,
    /// Normalized Email.
    ///
    /// `email_normalized`: char, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub email_normalized: Option<String>,
    /// Employee.
    ///
    /// `employee`: boolean.
    #[serde(default)]
    pub employee: bool,
    /// Employees.
    ///
    /// `employee_ids`: one2many of `hr.employee`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub employee_ids: Vec<odoo_connect_client::RecordId>,
    /// Employees Count.
    ///
    /// `employees_count`: integer, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub employees_count: Option<i64>,
    /// Fiscal Country Codes.
    ///
    /// `fiscal_country_codes`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub fiscal_country_codes: Option<String>,
    /// Job Position.
    ///
    /// `function`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub function: Option<String>,
    /// Has Message.
    ///
    /// `has_message`: boolean, not stored, read-only.
    #[serde(default)]
    pub has_message: bool,
    /// Ignore Abnormal Invoice Amount.
    ///
    /// `ignore_abnormal_invoice_amount`: boolean, company dependent.
    #[serde(default)]
    pub ignore_abnormal_invoice_amount: bool,
    /// Ignore Abnormal Invoice Date.
    ///
    /// `ignore_abnormal_invoice_date`: boolean, company dependent.
    #[serde(default)]
    pub ignore_abnormal_invoice_date: bool,
    /// IM Status.
    ///
    /// `im_status`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub im_status: Option<String>,
    /// Image 1024.
    ///
    /// `image_1024`: binary, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub image_1024: Option<odoo_connect_client::Binary>,
    /// Image 128.
    ///
    /// `image_128`: binary, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub image_128: Option<odoo_connect_client::Binary>,
    /// Image.
    ///
    /// `image_1920`: binary.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub image_1920: Option<odoo_connect_client::Binary>,
    /// Image 256.
    ///
    /// `image_256`: binary, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub image_256: Option<odoo_connect_client::Binary>,
    /// Image 512.
    ///
    /// `image_512`: binary, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub image_512: Option<odoo_connect_client::Binary>,
    /// Industry.
    ///
    /// `industry_id`: many2one of `res.partner.industry`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub industry_id: Option<odoo_connect_client::Many2one>,
    /// eInvoice format.
    ///
    /// `invoice_edi_format`: selection, not stored.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub invoice_edi_format: Option<ResPartnerInvoiceEdiFormat>,
    /// Invoice Edi Format Store.
    ///
    /// `invoice_edi_format_store`: char, company dependent.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub invoice_edi_format_store: Option<String>,
    /// Invoices.
    ///
    /// `invoice_ids`: one2many of `account.move`, read-only.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub invoice_ids: Vec<odoo_connect_client::RecordId>,
    /// Invoice sending.
    ///
    /// `invoice_sending_method`: selection, company dependent.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub invoice_sending_method: Option<ResPartnerInvoiceSendingMethod>,
    /// Invoice template.
    ///
    /// `invoice_template_pdf_report_id`: many2one of `ir.actions.report`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub invoice_template_pdf_report_id: Option<odoo_connect_client::Many2one>,
    /// Invoice.
    ///
    /// `invoice_warn`: selection.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub invoice_warn: Option<ResPartnerInvoiceWarn>,
    /// Message for Invoice.
    ///
    /// `invoice_warn_msg`: text.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub invoice_warn_msg: Option<String>,
    /// Blacklist.
    ///
    /// `is_blacklisted`: boolean, not stored, read-only.
    #[serde(default)]
    pub is_blacklisted: bool,
    /// Is Coa Installed.
    ///
    /// `is_coa_installed`: boolean, not stored.
    #[serde(default)]
    pub is_coa_installed: bool,
    /// Is a Company.
    ///
    /// `is_company`: boolean.
    #[serde(default)]
    pub is_company: bool,
    /// Is Peppol Edi Format.
    ///
    /// `is_peppol_edi_format`: boolean, not stored, read-only.
    #[serde(default)]
    pub is_peppol_edi_format: bool,
    /// Is Public.
    ///
    /// `is_public`: boolean, not stored, read-only.
    #[serde(default)]
    pub is_public: bool,
    /// Is Ubl Format.
    ///
    /// `is_ubl_format`: boolean, not stored, read-only.
    #[serde(default)]
    pub is_ubl_format: bool,
    /// Journal Items.
    ///
    /// `journal_item_count`: integer, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub journal_item_count: Option<i64>,
    /// Language.
    ///
    /// `lang`: selection.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub lang: Option<ResPartnerLang>,
    /// Attachment Count.
    ///
    /// `message_attachment_count`: integer, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub message_attachment_count: Option<i64>,
    /// Bounce.
    ///
    /// `message_bounce`: integer.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub message_bounce: Option<i64>,
    /// Followers.
    ///
    /// `message_follower_ids`: one2many of `mail.followers`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub message_follower_ids: Vec<odoo_connect_client::RecordId>,
    /// Message Delivery error.
    ///
    /// `message_has_error`: boolean, not stored, read-only.
    #[serde(default)]
    pub message_has_error: bool,
    /// Number of errors.
    ///
    /// `message_has_error_counter`: integer, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub message_has_error_counter: Option<i64>,
    /// SMS Delivery error.
    ///
    /// `message_has_sms_error`: boolean, not stored, read-only.
    #[serde(default)]
    pub message_has_sms_error: bool,
    /// Messages.
    ///
    /// `message_ids`: one2many of `mail.message`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub message_ids: Vec<odoo_connect_client::RecordId>,
    /// Is Follower.
    ///
    /// `message_is_follower`: boolean, not stored, read-only.
    #[serde(default)]
    pub message_is_follower: bool,
    /// Action Needed.
    ///
    /// `message_needaction`: boolean, not stored, read-only.
    #[serde(default)]
    pub message_needaction: bool,
    /// Number of Actions.
    ///
    /// `message_needaction_counter`: integer, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub message_needaction_counter: Option<i64>,
    /// Followers (Partners).
    ///
    /// `message_partner_ids`: many2many of `res.partner`, not stored.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub message_partner_ids: Vec<odoo_connect_client::RecordId>,
    /// Mobile.
    ///
    /// `mobile`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub mobile: Option<String>,
    /// Blacklisted Phone Is Mobile.
    ///
    /// `mobile_blacklisted`: boolean, not stored, read-only.
    #[serde(default)]
    pub mobile_blacklisted: bool,
    /// My Activity Deadline.
    ///
    /// `my_activity_date_deadline`: date, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::date::option")]
    pub my_activity_date_deadline: Option<chrono::NaiveDate>,
    /// Name.
    ///
    /// `name`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub name: Option<String>,
    /// Related Company.
    ///
    /// `parent_id`: many2one of `res.partner`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub parent_id: Option<odoo_connect_client::Many2one>,
    /// Parent name.
    ///
    /// `parent_name`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub parent_name: Option<String>,
    /// Partner Company Registry Placeholder.
    ///
    /// `partner_company_registry_placeholder`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub partner_company_registry_placeholder: Option<String>,
    /// Company database ID.
    ///
    /// `partner_gid`: integer.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub partner_gid: Option<i64>,
    /// Geo Latitude.
    ///
    /// `partner_latitude`: float.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub partner_latitude: Option<f64>,
    /// Geo Longitude.
    ///
    /// `partner_longitude`: float.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub partner_longitude: Option<f64>,
    /// Share Partner.
    ///
    /// `partner_share`: boolean, read-only.
    #[serde(default)]
    pub partner_share: bool,
    /// Partner Vat Placeholder.
    ///
    /// `partner_vat_placeholder`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub partner_vat_placeholder: Option<String>,
    /// Payment Token Count.
    ///
    /// `payment_token_count`: integer, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub payment_token_count: Option<i64>,
    /// Payment Tokens.
    ///
    /// `payment_token_ids`: one2many of `payment.token`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub payment_token_ids: Vec<odoo_connect_client::RecordId>,
    /// Peppol e-address (EAS).
    ///
    /// `peppol_eas`: selection.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub peppol_eas: Option<String>,
    /// Peppol Endpoint.
    ///
    /// `peppol_endpoint`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub peppol_endpoint: Option<String>,
    /// Phone.
    ///
    /// `phone`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub phone: Option<String>,
    /// Blacklisted Phone is Phone.
    ///
    /// `phone_blacklisted`: boolean, not stored, read-only.
    #[serde(default)]
    pub phone_blacklisted: bool,
    /// Phone/Mobile.
    ///
    /// `phone_mobile_search`: char, not stored.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub phone_mobile_search: Option<String>,
    /// Sanitized Number.
    ///
    /// `phone_sanitized`: char, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub phone_sanitized: Option<String>,
    /// Phone Blacklisted.
    ///
    /// `phone_sanitized_blacklisted`: boolean, not stored, read-only.
    #[serde(default)]
    pub phone_sanitized_blacklisted: bool,
    /// Projects.
    ///
    /// `project_ids`: one2many of `project.project`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub project_ids: Vec<odoo_connect_client::RecordId>,
    /// Account Payable.
    ///
    /// `property_account_payable_id`: many2one of `account.account`, company dependent.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub property_account_payable_id: Option<odoo_connect_client::Many2one>,
    /// Fiscal Position.
    ///
    /// `property_account_position_id`: many2one of `account.fiscal.position`, company dependent.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub property_account_position_id: Option<odoo_connect_client::Many2one>,
    /// Account Receivable.
    ///
    /// `property_account_receivable_id`: many2one of `account.account`, company dependent.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub property_account_receivable_id: Option<odoo_connect_client::Many2one>,
    /// Property Inbound Payment Method Line.
    ///
    /// `property_inbound_payment_method_line_id`: many2one of `account.payment.method.line`, company dependent.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub property_inbound_payment_method_line_id: Option<odoo_connect_client::Many2one>,
    /// Property Outbound Payment Method Line.
    ///
    /// `property_outbound_payment_method_line_id`: many2one of `account.payment.method.line`, company dependent.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub property_outbound_payment_method_line_id: Option<odoo_connect_client::Many2one>,
    /// Customer Payment Terms.
    ///
    /// `property_payment_term_id`: many2one of `account.payment.term`, company dependent.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub property_payment_term_id: Option<odoo_connect_client::Many2one>,
    /// Pricelist.
    ///
    /// `property_product_pricelist`: many2one of `product.pricelist`, not stored.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub property_product_pricelist: Option<odoo_connect_client::Many2one>,
    /// Vendor Payment Terms.
    ///
    /// `property_supplier_payment_term_id`: many2one of `account.payment.term`, company dependent.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub property_supplier_payment_term_id: Option<odoo_connect_client::Many2one>,
    /// Ratings.
    ///
    /// `rating_ids`: one2many of `rating.rating`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub rating_ids: Vec<odoo_connect_client::RecordId>,
    /// Reference.
    ///
    /// `ref`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub r#ref: Option<String>,
    /// Companies that refers to partner.
    ///
    /// `ref_company_ids`: one2many of `res.company`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub ref_company_ids: Vec<odoo_connect_client::RecordId>,
    /// Sale Order Count.
    ///
    /// `sale_order_count`: integer, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub sale_order_count: Option<i64>,
    /// Sales Order.
    ///
    /// `sale_order_ids`: one2many of `sale.order`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub sale_order_ids: Vec<odoo_connect_client::RecordId>,
    /// Sales Warnings.
    ///
    /// `sale_warn`: selection.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub sale_warn: Option<ResPartnerSaleWarn>,
    /// Message for Sales Order.
    ///
    /// `sale_warn_msg`: text.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub sale_warn_msg: Option<String>,
    /// Partner with same Company Registry.
    ///
    /// `same_company_registry_partner_id`: many2one of `res.partner`, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub same_company_registry_partner_id: Option<odoo_connect_client::Many2one>,
    /// Partner with same Tax ID.
    ///
    /// `same_vat_partner_id`: many2one of `res.partner`, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub same_vat_partner_id: Option<odoo_connect_client::Many2one>,
    /// Self.
    ///
    /// `self`: many2one of `res.partner`, not stored, read-only.
    #[serde(rename = "self", default, with = "odoo_connect_client::value::opt")]
    pub self_: Option<odoo_connect_client::Many2one>,
    /// Show Credit Limit.
    ///
    /// `show_credit_limit`: boolean, not stored, read-only.
    #[serde(default)]
    pub show_credit_limit: bool,
    /// Signup Token Type.
    ///
    /// `signup_type`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub signup_type: Option<String>,
    /// Specific Property Product Pricelist.
    ///
    /// `specific_property_product_pricelist`: many2one of `product.pricelist`, company dependent.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub specific_property_product_pricelist: Option<odoo_connect_client::Many2one>,
    /// Starred Message.
    ///
    /// `starred_message_ids`: many2many of `mail.message`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub starred_message_ids: Vec<odoo_connect_client::RecordId>,
    /// State.
    ///
    /// `state_id`: many2one of `res.country.state`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub state_id: Option<odoo_connect_client::Many2one>,
    /// Street.
    ///
    /// `street`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub street: Option<String>,
    /// Street2.
    ///
    /// `street2`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub street2: Option<String>,
    /// # Vendor Bills.
    ///
    /// `supplier_invoice_count`: integer, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub supplier_invoice_count: Option<i64>,
    /// Supplier Rank.
    ///
    /// `supplier_rank`: integer.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub supplier_rank: Option<i64>,
    /// # Tasks.
    ///
    /// `task_count`: integer, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub task_count: Option<i64>,
    /// Tasks.
    ///
    /// `task_ids`: one2many of `project.task`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub task_ids: Vec<odoo_connect_client::RecordId>,
    /// Title.
    ///
    /// `title`: many2one of `res.partner.title`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub title: Option<odoo_connect_client::Many2one>,
    /// Total Invoiced.
    ///
    /// `total_invoiced`: monetary, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    pub total_invoiced: Option<rust_decimal::Decimal>,
    /// Degree of trust you have in this debtor.
    ///
    /// `trust`: selection, company dependent.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub trust: Option<ResPartnerTrust>,
    /// Address Type.
    ///
    /// `type`: selection.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub r#type: Option<ResPartnerType>,
    /// Timezone.
    ///
    /// `tz`: selection.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub tz: Option<String>,
    /// Timezone offset.
    ///
    /// `tz_offset`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub tz_offset: Option<String>,
    /// Partner Limit.
    ///
    /// `use_partner_credit_limit`: boolean, not stored.
    #[serde(default)]
    pub use_partner_credit_limit: bool,
    /// Salesperson.
    ///
    /// `user_id`: many2one of `res.users`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub user_id: Option<odoo_connect_client::Many2one>,
    /// Users.
    ///
    /// `user_ids`: one2many of `res.users`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub user_ids: Vec<odoo_connect_client::RecordId>,
    /// Tax ID.
    ///
    /// `vat`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub vat: Option<String>,
    /// Tax ID Label.
    ///
    /// `vat_label`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub vat_label: Option<String>,
    /// Website Link.
    ///
    /// `website`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub website: Option<String>,
    /// Website Messages.
    ///
    /// `website_message_ids`: one2many of `mail.message`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub website_message_ids: Vec<odoo_connect_client::RecordId>,
    /// Last Updated on.
    ///
    /// `write_date`: datetime, read-only.
    #[serde(default, with = "odoo_connect_client::value::datetime::option")]
    pub write_date: Option<chrono::DateTime<chrono::Utc>>,
    /// Last Updated by.
    ///
    /// `write_uid`: many2one of `res.users`, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub write_uid: Option<odoo_connect_client::Many2one>,
    /// Zip.
    ///
    /// `zip`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub zip: Option<String>,
}
