//! The cashier page's style sheet and its only script, served from the
//! binary.

/// The style sheet: fits 1366×768 without scrolling the page.
pub(crate) const CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:15px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d2327;background:#f3f4f6}
header.bar{display:flex;gap:1.2rem;align-items:center;padding:.45rem 1rem;background:#1f3a5f;color:#fff}
header.bar nav{display:flex;gap:.4rem;flex:1}
header.bar nav a{color:#fff;text-decoration:none;padding:.25rem .7rem;border-radius:4px}
header.bar nav a[aria-current=page]{background:#2f5b91}
#connection{display:inline-flex;align-items:center;gap:.4rem;padding:.2rem .6rem;border-radius:4px;background:#2e7d32}
#connection[data-online=no]{background:#b3261e}
#connection .icon{position:relative;width:14px;height:14px;border-radius:50%;border:2px solid #fff}
#connection[data-online=no] .icon::after{content:"";position:absolute;left:-3px;top:4px;width:16px;height:2px;background:#fff;transform:rotate(-45deg)}
main{padding:.8rem 1rem;max-width:1366px;margin:0 auto}
.sale{display:grid;grid-template-columns:1fr 480px;gap:1rem}
.customers{display:grid;grid-template-columns:repeat(3,1fr);gap:1rem}
section{background:#fff;border-radius:6px;padding:.8rem;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{margin:.1rem 0 .6rem;font-size:1.1rem}
.row{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;margin:.3rem 0}
label{display:block;margin:.3rem 0}
.customers label input{display:block;width:100%}
input,select,button{font:inherit;padding:.3rem .5rem}
#q{flex:1;min-width:12rem;font-size:1.1rem}
button{cursor:pointer;border:1px solid #1f3a5f;background:#fff;border-radius:4px}
button[type=submit]#pay-submit,button#search-submit,button.add,.button{background:#1f3a5f;color:#fff}
#pay-submit{font-size:1.1rem;padding:.5rem 1.2rem}
#customer-create-submit,#customer-edit-submit{background:#1f3a5f;color:#fff}
#customer-find input{flex:1}
#pay-submit:disabled{opacity:.5;cursor:default}
.scroll{max-height:calc(100vh - 230px);overflow:auto}
table{border-collapse:collapse;width:100%}
th,td{padding:.25rem .4rem;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:middle}
.num{text-align:right;white-space:nowrap}
.code{font-family:ui-monospace,Consolas,monospace;font-size:.9em;color:#4b5563}
form.add{display:flex;gap:.3rem}
form.add input{width:4.5rem}
#total{font-size:1.3rem;font-weight:700}
#ticket tbody{display:block;max-height:calc(100vh - 380px);overflow:auto}
#ticket thead,#ticket tbody tr,#ticket tfoot{display:table;width:100%;table-layout:fixed}
#ticket td:first-child,#ticket th:first-child{width:48%}
#ticket td:last-child,#ticket th:last-child{width:2.6rem}
.error{color:#b3261e;background:#fdecea;padding:.4rem .6rem;border-radius:4px}
.flash-ok{color:#1b5e20;background:#e8f5e9;padding:.4rem .6rem;border-radius:4px}
.note,.hint,.empty{color:#4b5563}
#receipt{margin:0 auto}
.receipt-80mm{width:80mm;padding:4mm;font:12px/1.3 ui-monospace,Consolas,"DejaVu Sans Mono",monospace;color:#000}
.receipt-80mm p{margin:.15rem 0}
.receipt-80mm .store{text-align:center}
.receipt-80mm .store-name{font-size:1.35rem;margin:.1rem 0 .3rem}
.receipt-80mm .doc-title{text-align:center;font-weight:700;border-top:1px dashed #000;padding-top:.3rem;margin-top:.4rem}
.receipt-80mm .mark{text-align:center;font-weight:700;font-size:1.2rem;background:#000;color:#fff;padding:.15rem}
.receipt-80mm .center{text-align:center}
.receipt-80mm .meta,.receipt-80mm .total{display:flex;justify-content:space-between;gap:.5rem}
.receipt-80mm .total{font-weight:700;font-size:1.1rem;border-top:1px dashed #000;border-bottom:1px dashed #000;padding:.2rem 0}
.receipt-80mm table{margin:.3rem 0}
.receipt-80mm th,.receipt-80mm td{padding:.1rem .15rem;border-bottom:0}
.receipt-80mm .receipt-lines{border-top:1px dashed #000}
.receipt-80mm .missing{font-style:italic}
.receipt-80mm tr.voided td:first-child{text-decoration:line-through}
.receipt-80mm .void-mark{font-weight:700}
.receipt-80mm .qr{text-align:center;margin:.4rem 0}
.receipt-80mm .qr svg{width:42mm;height:auto}
.receipt-80mm .qr-text{word-break:break-all;font-size:9px}
.receipt-actions{display:flex;gap:.6rem;align-items:center;justify-content:center;flex-wrap:wrap;margin:.8rem auto;max-width:80mm}
.receipt-actions .hint{flex-basis:100%;text-align:center}
#logout{display:flex;gap:.4rem;align-items:center}
.login{max-width:420px;margin:2rem auto}
.login select,.login input{display:block;width:100%;font-size:1.2rem}
#login-submit{margin-top:.6rem;background:#1f3a5f;color:#fff;font-size:1.1rem;padding:.5rem 1.2rem}
.ticket-number{font-weight:700}
.signature{font-family:ui-monospace,Consolas,monospace;font-weight:700;letter-spacing:.05em}
@page{size:80mm auto;margin:0}
@media print{header.bar,.receipt-actions,.no-print{display:none}main{padding:0;margin:0}body{background:#fff}
#receipt{box-shadow:none;border-radius:0;padding:2mm;width:76mm}}
a.button{display:inline-block;padding:.5rem 1rem;border-radius:4px;text-decoration:none}
"#;

/// The only script: refreshes the connection indicator and the outbox
/// count every few seconds from `/status.json`, and prints the receipt when
/// a print button is clicked (the page works without it).
pub(crate) const JS: &str = r#"
(function(){
  function refresh(){
    fetch('/status.json',{cache:'no-store',credentials:'same-origin'})
      .then(function(r){return r.ok?r.json():null})
      .then(function(s){
        if(!s)return;
        var c=document.getElementById('connection');
        if(c){
          var on=s.online===true;
          c.setAttribute('data-online',on?'yes':'no');
          var l=c.querySelector('.label');
          if(l&&s.online!==null)l.textContent=c.getAttribute(on?'data-label-yes':'data-label-no');
        }
        var o=document.getElementById('outbox-count');
        if(o)o.textContent=String(s.tickets_waiting);
      })
      .catch(function(){
        var c=document.getElementById('connection');
        if(c)c.setAttribute('data-online','no');
      });
  }
  setInterval(refresh,3000);
  // Receipts print only on request (AGEC law): the buttons marked data-print.
  document.addEventListener('click',function(e){
    var b=e.target.closest&&e.target.closest('[data-print]');
    if(b){e.preventDefault();window.print();}
  });
})();
"#;
