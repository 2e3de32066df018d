/**
 * Loads Ink, React and React's JSX runtime before the screen's own modules (ui/load.ts
 * `importHidingCi`). Here, as the tests and tsc's output run, they load as the screen's modules
 * import them, and there is nothing to do first. The CommonJS bundle (dist/bundle/cli.cjs) has
 * ui/screen-modules-bundled.ts in this file's place: there they come from dist/bundle/screen.js.
 */
export async function loadScreenModules(): Promise<void> {}
