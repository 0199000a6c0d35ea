// What `tsc --noEmit`, strict, module NodeNext, reports for the given TypeScript apps and for the declarations of the
// installed package they use (as under skipLibCheck: false), printed as JSON: [{ file, line, text }]. Other packages'
// declarations are not checked: they are not this package's to fix, and checking them (@types/node above all) would
// take most of the time. test/package.test.ts runs it as a child process, out of tap's coverage, which slows the
// compiler down.
// Usage: node consumer-diagnostics.mjs <installed package folder> <app file>...
import { relative } from 'node:path'
import ts from 'typescript'

const [installed, ...apps] = process.argv.slice(2)
const program = ts.createProgram(apps, {
  strict: true,
  noEmit: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  types: ['node']
})
const checked = program.getSourceFiles().filter(({ fileName }) => !fileName.includes('/node_modules/') || fileName.startsWith(`${installed}/`))
const diagnostics = [
  ...program.getGlobalDiagnostics(),
  ...program.getOptionsDiagnostics(),
  ...checked.flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)])
]
console.log(JSON.stringify({
  checked: checked.map(({ fileName }) => relative(installed, fileName)),
  errors: diagnostics.map(({ file, start, messageText }) => ({
    file: file?.fileName ?? '(global)',
    line: file === undefined ? 0 : file.getLineAndCharacterOfPosition(start ?? 0).line + 1,
    text: ts.flattenDiagnosticMessageText(messageText, '\n')
  }))
}))
