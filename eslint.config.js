// ESLint for LabPress's browser code and its node tests (`make test` runs it through
// tests/test_browser_code.py). The recommended rules, plus rules that catch bugs; no style rules.
import js from "@eslint/js";
import globals from "globals";

const bugs = {
  "array-callback-return": "error",
  "eqeqeq": ["error", "always", { null: "ignore" }],
  "no-constructor-return": "error",
  "no-eval": "error",
  "no-implied-eval": "error",
  "no-new-func": "error",
  "no-self-compare": "error",
  "no-template-curly-in-string": "error",
  "no-throw-literal": "error",
  "no-unmodified-loop-condition": "error",
  "no-unreachable-loop": "error",
  "no-unused-expressions": "error",
  "no-implicit-globals": "error",
};

export default [
  { linterOptions: { reportUnusedDisableDirectives: "error" } },
  js.configs.recommended,
  { rules: bugs },
  {
    // The page's modules: the widget loader and runtime, and the dev server's reload client. The
    // loader is also imported by node tests: it touches the page only when started in one.
    files: [
      "generator/browser/runtime/loader.js", "generator/browser/runtime/main.js", "generator/browser/runtime/widget.js",
      "generator/browser/runtime/controls.js", "generator/browser/runtime/patch.js", "generator/browser/runtime/worker-client.js",
      "generator/browser/runtime/share.js", "generator/browser/reload.js",
    ],
    languageOptions: { sourceType: "module", globals: globals.browser },
  },
  {
    // The masthead's search box; node tests import its pure functions: it touches the page only in one.
    files: ["generator/browser/search.js"],
    languageOptions: { sourceType: "module", globals: globals.browser },
  },
  {
    // Pure rules imported by the runtime and by node tests: no page, worker or node globals.
    files: ["generator/browser/runtime/frames.js", "generator/browser/runtime/urlstate.js", "generator/browser/runtime/snapshot.js"],
    languageOptions: { sourceType: "module", globals: {} },
  },
  {
    // The page contract's pure half, imported by the runtime and by node tests: no page, worker or
    // node globals either; only URL, to resolve the settings' folders against a base given to it.
    files: ["generator/browser/runtime/contract.js"],
    languageOptions: { sourceType: "module", globals: { URL: "readonly" } },
  },
  {
    files: ["generator/browser/runtime/worker.js"],
    languageOptions: { sourceType: "module", globals: globals.worker },
  },
  {
    // A classic script in <head>, in older syntax on purpose (var, catch (e)): a syntax error
    // there would cost the page its colour scheme, not just its widgets.
    files: ["themes/default/static/scheme.js"],
    languageOptions: { sourceType: "script", globals: globals.browser },
    rules: { "no-unused-vars": ["error", { caughtErrors: "none" }] },
  },
  {
    // Run by node at set-up time (make setup, the wheel's build hook), never in a browser.
    files: ["generator/widgets/make_snapshot.mjs"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
  {
    files: ["tests/js/**/*.mjs"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
];
