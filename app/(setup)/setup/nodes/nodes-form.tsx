"use client";
import { useState } from "react";
import type { Recommendation } from "../../../_schemas/recommend";
import { EnergyEstimate } from "../_components/energy";
import { useLiveRecommendation } from "../_components/live";
import { FitBadge } from "../_components/step-shell";
import { FormError, useSubmit } from "../_components/submit";

interface Item {
  id: string;
  name: string;
  summary: string;
  heavy: boolean;
  /** Added by the owner on this box (local nodes file), not reviewed by Freehold. */
  local: boolean;
}

export function NodesForm(props: {
  catalog: Item[];
  initial: Recommendation;
  chosen: string[];
  priceKwh: number;
}) {
  const [chosen, setChosen] = useState<string[]>(props.chosen);
  const [price, setPrice] = useState(props.priceKwh);
  const rec = useLiveRecommendation(props.initial, { nodes: chosen, models: [], price });
  const { pending, message, submit } = useSubmit("/api/setup/draft", "PUT");
  const byId = new Map(rec.nodes.map((n) => [n.id, n]));
  return (
    <form
      method="post"
      onSubmit={(e) => {
        e.preventDefault();
        void submit({ section: "nodes", value: { nodes: chosen, priceKwh: price } });
      }}
    >
      <fieldset>
        <legend>Nodes</legend>
        <ul className="choices">
          {props.catalog.map((item) => {
            const r = byId.get(item.id);
            const picked = chosen.includes(item.id);
            const added = !picked && r?.chosen === true;
            return (
              <li key={item.id} data-testid={`node-${item.id}`}>
                <label>
                  <input
                    type="checkbox"
                    name="nodes"
                    value={item.id}
                    checked={picked || added}
                    disabled={added}
                    onChange={(e) =>
                      setChosen(
                        e.target.checked ? [...chosen, item.id] : chosen.filter((id) => id !== item.id),
                      )
                    }
                  />{" "}
                  <strong>{item.name}</strong> {r && <FitBadge fit={r.fit} />}{" "}
                  {item.heavy && <span className="badge">heavy</span>}
                  {item.local && (
                    <span className="badge">added by you on this box, not reviewed by Freehold</span>
                  )}
                </label>
                <p className="help">{item.summary}</p>
                {r && <p className="reason">{added ? `Added automatically: ${r.reason}` : r.reason}</p>}
              </li>
            );
          })}
        </ul>
      </fieldset>
      <label htmlFor="price">Electricity price per kWh</label>
      <input
        id="price"
        type="number"
        min={0}
        max={100}
        step={0.01}
        value={price}
        onChange={(e) => setPrice(Math.max(0, Number(e.target.value) || 0))}
      />
      <EnergyEstimate energy={rec.energy} />
      <FormError message={message} />
      <button type="submit" disabled={pending}>
        Continue
      </button>
    </form>
  );
}
