// Lint rules: typescript-eslint's type-aware recommended set, plus the promise rules that
// keep an event-loop server honest (no floating or misused promises).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "src/protocol/generated/", "bench/results/", ".cache/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: ["test", "it", "describe", "suite", "before", "after", "beforeEach", "afterEach"],
            },
          ],
        },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-non-null-assertion": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": [
        "error",
        { selector: "ExportDefaultDeclaration", message: "Use named exports." },
      ],
    },
  },
  {
    files: ["**/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The dashboard runs in the browser (plain ES modules, no build step).
    files: ["src/web/**/*.js"],
    languageOptions: {
      globals: Object.fromEntries(
        ["document", "window", "fetch", "console", "setTimeout", "clearTimeout", "Date"].map((g) => [
          g,
          "readonly",
        ]),
      ),
    },
  },
  { files: ["eslint.config.js"], rules: { "no-restricted-syntax": "off" } },
);
