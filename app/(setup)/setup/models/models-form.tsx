"use client";
import { useState } from "react";
import type { Recommendation } from "../../../_schemas/recommend";
import { formatBytes } from "../../../lib/format";
import { EnergyEstimate } from "../_components/energy";
import { useLiveRecommendation } from "../_components/live";
import { FitBadge } from "../_components/step-shell";
import { FormError, useSubmit } from "../_components/submit";

type Quant = Recommendation["models"][number]["quant"];

export function ModelsForm(props: {
  initial: Recommendation;
  nodes: string[];
  price: number;
  chosen: { id: string; quant: Quant }[];
  sizes: Record<string, Record<string, number>>;
}) {
  const [chosen, setChosen] = useState(props.chosen);
  const rec = useLiveRecommendation(props.initial, {
    nodes: props.nodes,
    models: chosen.map((m) => `${m.id}:${m.quant}`),
    price: props.price,
  });
  const { pending, message, submit } = useSubmit("/api/setup/draft", "PUT");
  return (
    <form
      method="post"
      onSubmit={(e) => {
        e.preventDefault();
        void submit({ section: "models", value: { models: chosen } });
      }}
    >
      <fieldset>
        <legend>Models</legend>
        <ul className="choices">
          {rec.models.map((m) => {
            const picked = chosen.find((c) => c.id === m.id);
            const size = props.sizes[m.id]?.[m.quant] ?? null;
            return (
              <li key={m.id} data-testid={`model-${m.id}`}>
                <label>
                  <input
                    type="checkbox"
                    checked={Boolean(picked)}
                    onChange={(e) =>
                      setChosen(
                        e.target.checked
                          ? [...chosen, { id: m.id, quant: m.quant }]
                          : chosen.filter((c) => c.id !== m.id),
                      )
                    }
                  />{" "}
                  <strong>{m.name}</strong> <FitBadge fit={m.fit} />
                </label>
                <p className="help">
                  {m.quant}, about {m.tokensPerSecond.toFixed(1)} tokens/s, {formatBytes(m.memoryBytes)} of
                  memory with {m.contextTokens.toLocaleString("en")} tokens of context; download{" "}
                  {formatBytes(size)}.
                </p>
                <p className="reason">{m.reason}</p>
              </li>
            );
          })}
        </ul>
      </fieldset>
      <EnergyEstimate energy={rec.energy} />
      <FormError message={message} />
      <button type="submit" disabled={pending}>
        Continue
      </button>
    </form>
  );
}
