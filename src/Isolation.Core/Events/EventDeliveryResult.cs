namespace Isolation;

/// <summary>What <see cref="IConnectionRegistry.Publish"/> did with one envelope.</summary>
/// <param name="Delivered">How many connections queued the envelope.</param>
/// <param name="Refused">
/// How many connections refused it because they do not belong to the envelope's user (<see cref="ViolationKind.EventLeak"/>);
/// the emitting scope counts those against its run.
/// </param>
public readonly record struct EventDeliveryResult(int Delivered, int Refused);
