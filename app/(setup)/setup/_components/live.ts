"use client";
import { useEffect, useRef, useState } from "react";
import type { Recommendation } from "../../../_schemas/recommend";

/** Asks the box for fit, dependencies and energy whenever the selection changes (debounced). */
export function useLiveRecommendation(
  initial: Recommendation,
  query: { nodes: string[]; models: string[]; price: number },
) {
  const [rec, setRec] = useState(initial);
  const first = useRef(true);
  const key = `${query.nodes.join(",")}|${query.models.join(",")}|${query.price}`;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the key captures the query
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      const params = new URLSearchParams({
        nodes: query.nodes.join(","),
        models: query.models.join(","),
        price: String(query.price),
      });
      fetch(`/api/setup/recommend?${params}`, { signal: controller.signal })
        .then((r) => r.json())
        .then((data: { ok: boolean; recommendation?: Recommendation }) => {
          if (data.ok && data.recommendation) setRec(data.recommendation);
        })
        .catch(() => {});
    }, 150);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [key]);
  return rec;
}
