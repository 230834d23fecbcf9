using System.Globalization;
using System.Text;
using Microsoft.Agents.AI;

namespace Isolation.AgentFramework.Internal;

/// <summary>
/// One string per <see cref="AgentSessionStoreKey"/>: the session id alone when the key has no partitions, otherwise
/// length-prefixed parts in ordinal partition order, so no two keys map to the same string whatever their characters.
/// </summary>
internal static class ConversationKey
{
    public static string Of(AgentSessionStoreKey key)
    {
        var partitions = key.Partitions;
        if (partitions is null || partitions.Count == 0)
        {
            return key.SessionId;
        }

        var names = new string[partitions.Count];
        var i = 0;
        foreach (var pair in partitions)
        {
            names[i++] = pair.Key;
        }

        Array.Sort(names, StringComparer.Ordinal);
        var builder = new StringBuilder();
        Append(builder, key.SessionId);
        foreach (var name in names)
        {
            Append(builder, name);
            Append(builder, partitions[name]);
        }

        return builder.ToString();
    }

    private static void Append(StringBuilder builder, string part) =>
        builder.Append(part.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(part);
}
