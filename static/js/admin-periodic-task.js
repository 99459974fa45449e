/*
 * django-celery-beat's periodic-task admin form: shows the chosen crontab in words under the crontab
 * field. The package does this with an inline script, which the Content-Security-Policy blocks;
 * templates/admin/djcelery/change_periodictask_form.html loads this file instead, with the field's
 * help text in data-crontab-help and the crontabs in words in the #readable-crontabs JSON.
 */
(() => {
  "use strict";
  const script = document.currentScript;
  const $ = window.django && window.django.jQuery;
  const source = document.getElementById("readable-crontabs");
  if (!$ || !source) return;
  const readable = JSON.parse(source.textContent);
  const help = (script && script.dataset.crontabHelp) || "";

  $(".field-crontab_translation").hide();
  $(".field-crontab").on("change", () => {
    const translation = readable[$("#id_crontab").val()];
    const box = $(".field-crontab .help");
    box.text(help);
    if (translation !== undefined) box.append("<br>", document.createTextNode(`Translation: ${translation}`));
  });
})();
