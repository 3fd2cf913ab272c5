import type { Recommendation } from "../../../_schemas/recommend";

export function EnergyEstimate({ energy }: { energy: Recommendation["energy"] }) {
  return (
    <section className="card energy" aria-label="Energy estimate" aria-live="polite" data-testid="energy">
      <strong>About {energy.averageWatts.toFixed(1)} W</strong> on average: {energy.monthlyKwh.toFixed(1)} kWh
      a month, <span data-testid="monthly-cost">{energy.monthlyCost.toFixed(2)}</span> a month at{" "}
      {energy.priceKwh} per kWh.
      {energy.miningHeatWatts !== null && (
        <> Mining turns about {Math.round(energy.miningHeatWatts)} W into heat.</>
      )}
    </section>
  );
}
