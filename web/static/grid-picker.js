// Type-to-filter for the home-grid select on /register: a search box above it lists the matching places as
// buttons and narrows the select's own options. The select stays the form's field, so without this script the
// grouped select alone still works.
(function () {
  "use strict";
  var select = document.getElementById("home_grid_id");
  if (!select) { return; }
  var MAX_SHOWN = 30;
  var options = Array.prototype.filter.call(select.options, function (option) { return option.value !== ""; });

  var box = document.createElement("div");
  box.className = "grid-search";
  var label = document.createElement("label");
  label.htmlFor = "grid-search";
  label.textContent = "搜索街道、社区或网格 · Search street, community or grid";
  var input = document.createElement("input");
  input.type = "search";
  input.id = "grid-search";
  input.autocomplete = "off";
  input.setAttribute("aria-controls", "grid-matches");
  input.setAttribute("aria-describedby", "grid-status");
  var status = document.createElement("p");
  status.id = "grid-status";
  status.className = "hint";
  status.setAttribute("role", "status");
  var list = document.createElement("ul");
  list.id = "grid-matches";
  list.className = "grid-matches";
  box.appendChild(label);
  box.appendChild(input);
  box.appendChild(status);
  box.appendChild(list);
  select.parentNode.insertBefore(box, select);

  function matches(option, terms) {
    var text = option.textContent.toLowerCase();
    return terms.every(function (term) { return text.indexOf(term) !== -1; });
  }

  function choose(option) {
    select.value = option.value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    list.textContent = "";
    status.textContent = "已选 · Chosen: " + option.textContent;
  }

  function filter() {
    var terms = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var found = terms.length ? options.filter(function (option) { return matches(option, terms); }) : options;
    options.forEach(function (option) { option.hidden = terms.length > 0 && found.indexOf(option) === -1; });
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      group.hidden = !Array.prototype.some.call(group.children, function (option) { return !option.hidden; });
    });
    list.textContent = "";
    if (!terms.length) { status.textContent = ""; return; }
    found.slice(0, MAX_SHOWN).forEach(function (option) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "grid-match";
      button.dataset.value = option.value;
      button.textContent = option.textContent;
      button.addEventListener("click", function () { choose(option); });
      item.appendChild(button);
      list.appendChild(item);
    });
    status.textContent = found.length > MAX_SHOWN
      ? "找到 " + found.length + " 个，显示前 " + MAX_SHOWN + " 个，请输入更多字 · " + found.length + " found, first " + MAX_SHOWN + " shown: type more"
      : "找到 " + found.length + " 个 · " + found.length + " found";
  }

  input.addEventListener("input", filter);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {  // Enter picks the first match instead of sending the form half-filled
      event.preventDefault();
      var first = list.querySelector("button");
      if (first) { first.click(); }
    }
  });
})();
