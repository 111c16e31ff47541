// The client: starts `funnel lsp` (the command is the `funnelspec.command` setting) for .funnel files.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("funnelspec").get("command", ["funnel", "lsp"]);
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient("funnelspec", "funnelspec", server, {
    documentSelector: [{ scheme: "file", language: "funnel" }],
  });
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((event) => {
    if (event.affectsConfiguration("funnelspec.command")) {
      vscode.window.showInformationMessage("funnelspec: reload the window to start the new server command");
    }
  }));
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
