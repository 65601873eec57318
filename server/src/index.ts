// @parley/server's programmatic entry: read the configuration from the environment and run the server, as
// `parley serve` does. The CLI (bin/parley.js) is the supported interface; this is for embedding it.
export { ConfigError, loadConfig, type Config, type ParleyEnv } from './config.js';
export { startServer, type RunningServer } from './server.js';
