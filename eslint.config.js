// @ts-check
import js from "@eslint/js"
import { defineConfig } from "eslint/config"
import globals from "globals"
import tseslint from "typescript-eslint"

/** The barrels that would load every module of their package. */
const barrels = [
  { name: "effect", message: 'Import from the module, e.g. "effect/Effect".' },
  {
    name: "@effect/platform",
    message: 'Import from the module, e.g. "@effect/platform/HttpClient".'
  }
]

export default defineConfig(
  {
    ignores: [
      "dist/",
      "node_modules/",
      "coverage/",
      "test/.snippets/",
      ".build-cjs/",
      ".build-esm/"
    ]
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      // `interface X extends Schema.Schema.Type<typeof X> {}` gives models a name in hovers and errors.
      "@typescript-eslint/no-empty-object-type": [
        "error",
        { allowInterfaces: "with-single-extends" }
      ],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }]
    }
  },
  {
    // Plain-JavaScript benchmark scripts run directly by node.
    files: ["bench/*.mjs", "bench/cold/*.mjs", "bench/cold/*.cjs", "scripts/*.mjs"],
    languageOptions: { globals: globals.node },
    rules: { "@typescript-eslint/no-require-imports": "off" }
  },
  {
    // The library imports Effect by deep paths so that importing it loads only the modules it
    // uses (cold start); tests, examples and benchmarks may use the barrels.
    files: ["src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: barrels
        }
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "MemberExpression[object.name='Effect'][property.name=/^run(Promise|Sync|Fork|Callback)/]",
          message: "Library code never runs Effects; return them to the caller."
        },
        {
          // Effect 3's race primitives create their fibers one step before starting them: a
          // caller interrupted in between never ends. `timeoutOption`/`timeoutFail` race inside
          // an uninterruptible region; src/internal/wait.ts waits for a wake-up or a timeout.
          selector:
            "MemberExpression[object.name='Effect'][property.name=/^(race|raceFirst|raceWith|raceAll|raceFibersWith)$/]",
          message:
            "Effect 3's race can leave an interrupted caller hanging: use Effect.timeoutOption, wakeOrSleep (internal/wait.ts), or race inside Effect.uninterruptibleMask with each side restored."
        }
      ]
    }
  },
  {
    // The command line too: through a barrel the bundle keeps, and evaluates at start-up, every
    // module of the package.
    files: ["cli/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            ...barrels,
            { name: "@effect/cli", message: 'Import from the module, e.g. "@effect/cli/Command".' }
          ]
        }
      ]
    }
  }
)
