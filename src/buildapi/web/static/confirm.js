// Asks before sending a form whose submit button (or the form itself) carries data-confirm,
// e.g. a cancel of every job of a revision. Without JavaScript such forms have a required
// checkbox instead. A page script that has taken the submit over (the push grid) asks itself.
document.addEventListener("submit", (event) => {
  if (event.defaultPrevented) return;
  const question = event.submitter?.dataset.confirm || event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
