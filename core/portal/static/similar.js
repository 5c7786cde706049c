// The filing form asks for the open concerns alike as one types (htmx, core/portal/resident.py). Once the form
// is being sent, a lookup still waiting for its pause in typing is no longer wanted: started then, the page
// leaving would cut it off halfway.
document.addEventListener("submit", (event) => {
  event.target.dataset.sending = "true";
});
document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.elt.closest("form[data-sending]")) {
    event.preventDefault();
  }
});
