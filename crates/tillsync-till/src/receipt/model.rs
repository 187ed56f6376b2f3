//! The receipt of a ticket as a French receipt must show it: the store's
//! identity (name, address, SIRET, VAT number; a missing one said missing),
//! the local date and time, the ticket number and till, the cashier, the
//! lines (quantity × unit price, line total, discounts, voided lines), the
//! ticket's discount, VAT per rate (base, VAT, total), the total including
//! VAT, payments and change, the marks "MODE
//! ÉCOLE" and "DUPLICATA n° K", a correction's reference to the ticket it
//! corrects, the customer of an invoice, and the signed QR code. Built once,
//! laid out by `receipt::layout` (text, ESC/POS) and the cashier page.

use ed25519_dalek::SigningKey;
use tillsync_core::fiscal::local::LocalZone;
use tillsync_core::fiscal::receipt::ReceiptPayload;
use tillsync_core::lang::Lang;
use tillsync_core::ticket::{Ticket, VatTotal};
use tillsync_till_db::store::{CustomerAddress, StoreIdentity};

use crate::receipt::format::method_label;

/// What is printed, besides the ticket itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrintOptions {
    /// The reprint number of a duplicate (`DUPLICATA n° K`); `None` for the original.
    pub duplicate: Option<u64>,
    /// An invoice on request, with the customer's name and address when
    /// the ticket names a customer.
    pub invoice: bool,
    /// The cashier who sold, when the ticket does not say (version 1).
    pub cashier: Option<String>,
    /// The number is one of the training chain (mode école), numbered apart.
    pub training: bool,
}

/// The store block: every field as the till's `STORE` gives it, `None`
/// when it does not (printed as missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreBlock {
    /// The store code (always known: the till's configuration).
    pub code: String,
    /// Trade name.
    pub name: Option<String>,
    /// Address lines.
    pub address: Vec<String>,
    /// `69003 Lyon`.
    pub postcode_town: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// SIRET.
    pub siret: Option<String>,
    /// Intra-community VAT number.
    pub vat_number: Option<String>,
}

/// One line of the receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    /// Item code.
    pub item: String,
    /// Label at the time of sale.
    pub label: String,
    /// Quantity as printed (`2`, `0,485`).
    pub quantity: String,
    /// Unit price including VAT, cents.
    pub unit_cents: i64,
    /// Quantity × unit price, before the line's discount, cents.
    pub gross_cents: i64,
    /// The line's discount, cents (0: none).
    pub discount_cents: i64,
    /// Line total including VAT after its discount, cents.
    pub total_cents: i64,
    /// VAT rate, basis points.
    pub vat_rate_bp: i64,
    /// Voided before payment: printed, out of the totals.
    pub voided: bool,
}

/// One payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptPayment {
    /// Method code (`cash`…).
    pub method: String,
    /// Its label in the receipt's language.
    pub label: String,
    /// Amount, cents.
    pub amount_cents: i64,
}

/// A receipt, ready to be laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The language of its words.
    pub lang: Lang,
    /// Till id.
    pub till: String,
    /// Ticket number.
    pub number: u64,
    /// Date and time of the sale, local, as a person reads it.
    pub local_time: String,
    /// The IANA zone of that time.
    pub zone: String,
    /// The store, as far as the till knows it.
    pub store: StoreBlock,
    /// The cashier, when known.
    pub cashier: Option<String>,
    /// The reprint number of a duplicate.
    pub duplicate: Option<u64>,
    /// A training-mode ticket.
    pub training: bool,
    /// An invoice (with the customer block when there is a customer).
    pub invoice: bool,
    /// The ticket this one corrects.
    pub corrects: Option<u64>,
    /// Lines (voided ones included).
    pub lines: Vec<ReceiptLine>,
    /// The total of the lines kept, after their discounts, cents.
    pub subtotal_cents: i64,
    /// The discount on the whole ticket, cents (0: none).
    pub ticket_discount_cents: i64,
    /// Totals per VAT rate.
    pub vat: Vec<VatTotal>,
    /// Total including VAT, cents.
    pub total_cents: i64,
    /// Payments.
    pub payments: Vec<ReceiptPayment>,
    /// Change given back, cents (0: none).
    pub change_cents: i64,
    /// The customer's code.
    pub customer_code: Option<String>,
    /// The customer's name and address (invoices).
    pub customer: Option<CustomerAddress>,
    /// The text of the QR code (signed by the till).
    pub qr: String,
    /// The ticket's signature (hex).
    pub signature: String,
}

impl StoreBlock {
    fn of(code: &str, s: Option<&StoreIdentity>) -> Self {
        let Some(s) = s else {
            return StoreBlock {
                code: code.to_string(),
                name: None,
                address: Vec::new(),
                postcode_town: None,
                phone: None,
                siret: None,
                vat_number: None,
            };
        };
        let postcode_town = match (&s.postcode, &s.town) {
            (Some(p), Some(t)) => Some(format!("{p} {t}")),
            (Some(x), None) | (None, Some(x)) => Some(x.clone()),
            (None, None) => None,
        };
        StoreBlock {
            code: code.to_string(),
            name: s.name.clone(),
            address: s.address.clone(),
            postcode_town,
            phone: s.phone.clone(),
            siret: s.siret.clone(),
            vat_number: s.vat_number.clone(),
        }
    }
}

/// What a receipt is made from.
pub struct ReceiptSource<'a> {
    /// The ticket as recorded.
    pub ticket: &'a Ticket,
    /// The till's store code.
    pub store_code: &'a str,
    /// Its identity from `STORE`, when loaded.
    pub store: Option<&'a StoreIdentity>,
    /// The customer's name and address (for an invoice).
    pub customer: Option<CustomerAddress>,
    /// The zone of the till.
    pub zone: &'a LocalZone,
    /// The language of the receipt.
    pub lang: Lang,
    /// The till's key, which signs the QR code.
    pub key: &'a SigningKey,
}

impl Receipt {
    /// The receipt of `src.ticket` printed with `opts`.
    pub fn build(src: &ReceiptSource<'_>, opts: &PrintOptions) -> Result<Self, crate::TillError> {
        let t = src.ticket;
        let payload = ReceiptPayload::of(t, &src.key.verifying_key(), src.zone)
            .map_err(|e| crate::TillError::Receipt(e.to_string()))?;
        // Change: recorded from version 2 on; a version-1 ticket recorded
        // what was handed over, the change is what exceeds the total.
        let change_cents = if t.version >= 2 {
            t.change_cents
        } else if t.total_cents >= 0 {
            (t.paid_cents() - t.total_cents).max(0)
        } else {
            0
        };
        let decimal = |q: String| match src.lang {
            Lang::Fr => q.replace('.', ","),
            Lang::En => q,
        };
        Ok(Receipt {
            lang: src.lang,
            till: t.till.clone(),
            number: t.number,
            local_time: src.zone.show(&t.time, src.lang),
            zone: src.zone.name().to_string(),
            store: StoreBlock::of(src.store_code, src.store),
            cashier: t.cashier.clone().or_else(|| opts.cashier.clone()),
            duplicate: opts.duplicate,
            training: t.training,
            invoice: opts.invoice,
            corrects: t.corrects,
            lines: t
                .lines
                .iter()
                .map(|l| ReceiptLine {
                    item: l.item.clone(),
                    label: l.label.clone(),
                    quantity: decimal(l.quantity_text()),
                    unit_cents: l.unit_price_cents,
                    gross_cents: l.gross_cents(),
                    discount_cents: l.discount_cents,
                    total_cents: l.total_incl_cents,
                    vat_rate_bp: l.vat_rate_bp,
                    voided: l.voided,
                })
                .collect(),
            subtotal_cents: t.active_lines().map(|l| l.total_incl_cents).sum(),
            ticket_discount_cents: t.discount_cents,
            vat: t.vat_totals.clone(),
            total_cents: t.total_cents,
            payments: t
                .payments
                .iter()
                .map(|p| ReceiptPayment {
                    method: p.method.clone(),
                    label: method_label(src.lang, &p.method),
                    amount_cents: p.amount_cents,
                })
                .collect(),
            change_cents,
            customer_code: t.customer.clone(),
            customer: if opts.invoice {
                src.customer.clone()
            } else {
                None
            },
            qr: payload.sign(src.key),
            signature: t.signature.clone(),
        })
    }

    /// The invoice number of an invoice on request: `T001-42`.
    pub fn invoice_number(&self) -> String {
        format!("{}-{}", self.till, self.number)
    }
}

/// The words of a receipt in its language.
pub struct Words {
    /// "Ticket de caisse".
    pub title: &'static str,
    /// "Facture".
    pub invoice: &'static str,
    /// "Ticket n°".
    pub ticket: &'static str,
    /// "Caisse".
    pub till: &'static str,
    /// "Caissier".
    pub cashier: &'static str,
    /// "Magasin".
    pub store: &'static str,
    /// "SIRET".
    pub siret: &'static str,
    /// "N° TVA intracom.".
    pub vat_number: &'static str,
    /// "Tél.".
    pub phone: &'static str,
    /// What a missing mention says.
    pub missing: &'static str,
    /// "TOTAL TTC".
    pub total: &'static str,
    /// VAT table heads: rate, base, VAT, total.
    pub vat_heads: [&'static str; 4],
    /// "Rendu".
    pub change: &'static str,
    /// "MODE ÉCOLE".
    pub training: &'static str,
    /// "ticket sans valeur".
    pub training_note: &'static str,
    /// "DUPLICATA n°".
    pub duplicate: &'static str,
    /// "Correction du ticket n°".
    pub corrects: &'static str,
    /// "Client".
    pub customer: &'static str,
    /// "Date".
    pub date: &'static str,
    /// Under the QR code.
    pub qr_note: &'static str,
    /// "Signature".
    pub signature: &'static str,
    /// "Remise" (a line's discount).
    pub discount: &'static str,
    /// "Remise sur le ticket".
    pub ticket_discount: &'static str,
    /// "Sous-total".
    pub subtotal: &'static str,
    /// "ANNULÉ" (a line voided before payment).
    pub voided: &'static str,
    /// Between a label and its value: ` : ` in French, `: ` in English.
    pub colon: &'static str,
}

impl Words {
    /// The words of `lang`.
    pub fn of(lang: Lang) -> Self {
        let l = |fr, en| lang.pick(fr, en);
        Words {
            title: l("TICKET DE CAISSE", "RECEIPT"),
            invoice: l("FACTURE", "INVOICE"),
            ticket: l("Ticket n°", "Ticket no."),
            till: l("Caisse", "Till"),
            cashier: l("Caissier", "Cashier"),
            store: l("Magasin", "Store"),
            siret: "SIRET",
            vat_number: l("N° TVA intracom.", "VAT no."),
            phone: l("Tél.", "Phone"),
            missing: l("non renseigné", "not given"),
            total: l("TOTAL TTC", "TOTAL incl. VAT"),
            vat_heads: [
                l("TVA", "VAT"),
                l("Base HT", "Net"),
                l("TVA", "VAT"),
                l("TTC", "Gross"),
            ],
            change: l("Rendu", "Change"),
            training: l("MODE ÉCOLE", "TRAINING MODE"),
            training_note: l(
                "ticket d'entraînement, sans valeur",
                "practice ticket, of no value",
            ),
            duplicate: l("DUPLICATA n°", "DUPLICATE no."),
            corrects: l("Correction du ticket n°", "Correction of ticket no."),
            customer: l("Client", "Customer"),
            date: l("Date", "Date"),
            qr_note: l(
                "Vérifiable : tillsync verify receipt",
                "Check it: tillsync verify receipt",
            ),
            signature: l("Signature", "Signature"),
            discount: l("Remise", "Discount"),
            ticket_discount: l("Remise sur le ticket", "Ticket discount"),
            subtotal: l("Sous-total", "Subtotal"),
            voided: l("ANNULÉ", "VOID"),
            colon: l(" : ", ": "),
        }
    }
}
