import { StrictMode, useMemo, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import "./graphiql.css";
import { hooklineFetcher } from "./fetcher";

const keyStorage = "hookline:apiKey";

const defaultQuery = `# Put your API key in the Headers tab below:
#   {"Authorization": "Bearer hkl_…"}
# (or in the API key field above). Admins may add "Hookline-Owner": "<owner>".
# Subscriptions use the same headers in the websocket's connection_init.

{
  me { owner role }
  webhooks(first: 10) { totalCount edges { node { id url events health } } }
}
`;

function App() {
  const [key, setKey] = useState(() => sessionStorage.getItem(keyStorage) ?? "");
  const keyRef = useRef(key);
  keyRef.current = key;
  const fetcher = useMemo(() => hooklineFetcher(() => keyRef.current), []);
  return (
    <div className="ide">
      <header className="ide-bar">
        <a href="/" className="ide-home">Hookline</a>
        <label htmlFor="ide-key">API key</label>
        <input
          id="ide-key"
          type="password"
          autoComplete="off"
          placeholder="hkl_…"
          value={key}
          onChange={(e) => {
            setKey(e.target.value);
            sessionStorage.setItem(keyStorage, e.target.value.trim());
          }}
          aria-describedby="ide-key-note"
        />
        <span id="ide-key-note">
          Sent as <code>Authorization: Bearer</code> unless the Headers tab sets its own; both reach subscriptions too.
        </span>
      </header>
      <main className="ide-main">
        <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} />
      </main>
    </div>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
