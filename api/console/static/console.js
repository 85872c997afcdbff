// The valuation form: each method block shows the inputs of the method its select names
// (the others are hidden and disabled, so they are not posted). Without this script every
// method's inputs show, and the server reads only those of the selected method.
document.querySelectorAll("select.method-select").forEach(function (select) {
  function show() {
    var boxes = document.querySelectorAll(
      'fieldset.method-fields[data-block="' + select.dataset.block + '"]'
    );
    boxes.forEach(function (box) {
      var on = box.dataset.method === select.value;
      box.hidden = !on;
      box.disabled = !on;
    });
  }
  select.addEventListener("change", show);
  show();
});
