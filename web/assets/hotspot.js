// The hotspot page's only script.
// Right after a payment or a card, the device is logged in at the router without another tap: the form is the
// router's login form, posted as RouterOS' own login page posts it (without JavaScript its button does the same).
for (const form of document.querySelectorAll('form[data-auto-submit]')) {
  window.setTimeout(() => form.submit(), 700);
}
// A form sent back with an error: bring the first field in error into view on a small screen, ready to correct.
const wrong = document.querySelector('.field.has-error input');
if (wrong !== null) {
  wrong.scrollIntoView({ block: 'center' });
  wrong.focus({ preventScroll: true });
}
